import type { z } from 'zod';
import { issueProblems } from '../../../shared/compile/messages.ts';
import { idSchema } from '../../../shared/schema/workflow.ts';
import { ApiError, describeError } from '../api/client.ts';

/** Messages by field path ("name", "products.0", "limits.gold.limit"): the form shows each at its field. */
export type FieldErrors = Record<string, string>;

/**
 * Checks a form's value with the schema the API checks it with, and answers what is wrong in
 * plain words ("must not be empty"), by field, so the dialog says it before the server refuses.
 * @example check(productFieldsSchema, { name: '' }) // { name: 'must not be empty' }
 */
export function check(schema: z.ZodType, value: unknown): FieldErrors {
  const parsed = schema.safeParse(value);
  const errors: FieldErrors = {};
  for (const issue of parsed.error?.issues ?? [])
    for (const { path, message } of issueProblems(issue)) {
      const field = path.map(String).join('.') || '(form)';
      errors[field] ??= message;
    }
  return errors;
}

/** An id of a new partner, product or plan, checked as the API checks it; one in `taken` would replace (product, plan) or be refused (partner). */
export function checkId(id: string, taken: readonly string[] = []): FieldErrors {
  if (id === '') return { id: 'is required' };
  if (taken.includes(id)) return { id: `is taken: "${id}" exists already (edit it from its row)` };
  const message = check(idSchema, id)['(form)'];
  return message ? { id: message } : {};
}

/** A refusal of the API: its sentence, and its problems by field (where it names fields). */
export function refusal(error: unknown): { message: string; fields: FieldErrors } {
  const fields: FieldErrors = {};
  if (error instanceof ApiError) for (const p of error.problem.problems ?? []) if (p.field) fields[p.field] ??= p.message;
  const detail = error instanceof ApiError ? `${error.problem.title ?? `HTTP ${error.status}`}: ${error.message}` : describeError(error);
  return { message: detail, fields };
}

/** The message for a field and everything under it ("limits" covers "limits.gold.limit"). */
export function errorAt(errors: FieldErrors, field: string): string | undefined {
  if (errors[field]) return errors[field];
  const key = Object.keys(errors).find((k) => k.startsWith(`${field}.`));
  return key ? errors[key] : undefined;
}

/** The local date and time `datetime-local` shows for an ISO timestamp, and back. */
export const localInput = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

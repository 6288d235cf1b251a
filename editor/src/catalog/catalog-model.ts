/**
 * The error catalog as the catalog page edits it: the catalog's own zod schema checks it in the
 * browser (in the words of shared/compile/messages.ts), and a refusal of PUT /admin/api/errors is
 * put in words naming the entry and the workflow that still raises it.
 */
import { issueProblems } from '../../../shared/compile/messages.ts';
import { errorCatalogSchema, errorIdSchema, GATEWAY_ERRORS, type CatalogEntry, type ErrorCatalog } from '../../../shared/schema/catalog.ts';
import { ApiError, describeError } from '../api/client.ts';

export type { CatalogEntry, ErrorCatalog };

/** Ids the gateway itself answers with: the catalog must always define them. */
export const GATEWAY_IDS: ReadonlySet<string> = new Set(GATEWAY_ERRORS);

const FIELD_WORDS: Record<string, string> = { status: 'status', type: 'problem type', title: 'title', detail: 'detail template' };

/** A problem of the catalog being edited, with the entry (and field) it is about. */
export interface CatalogProblem {
  id: string | undefined;
  field: string | undefined;
  message: string;
}

/**
 * What is wrong with a catalog, by its own schema, in words: `error "late", title: must not be empty`.
 * @example catalogProblems({ errors: { late: { status: 99, type: 'x', title: '', detail: '' } } }) // two problems of "late"
 */
export function catalogProblems(catalog: ErrorCatalog): CatalogProblem[] {
  const parsed = errorCatalogSchema.safeParse(catalog);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap(issueProblems).map(({ path, message }) => {
    const [, id, field] = path.map(String);
    const where = id === undefined ? 'The catalog' : field === undefined ? `Error "${id}"` : `Error "${id}", ${FIELD_WORDS[field] ?? field}`;
    return { id, field, message: `${where}: ${message}` };
  });
}

/** Why an id cannot be added, or undefined when it can. */
export function newIdProblem(id: string, catalog: ErrorCatalog): string | undefined {
  if (id === '') return 'Give the new error an id.';
  const parsed = errorIdSchema.safeParse(id);
  if (!parsed.success) return `The id ${issueProblems(parsed.error.issues[0]!)[0]!.message}: lower-case letters, digits and _, starting with a letter, at most 64 characters.`;
  if (Object.hasOwn(catalog.errors, id)) return `"${id}" is already in the catalog.`;
  return undefined;
}

/** A new entry's first values: a client error with a problem type named after the id. */
export const newEntry = (id: string): CatalogEntry => ({ status: 400, type: `https://errors.example.com/${id.replace(/_/g, '-')}`, title: '', detail: '' });

const RAISED = /^workflow "([^"]+)": error "([^"]+)" (?:raised by ([\w-]+) )?is not in the error catalog/;

/**
 * A refused save in words: each entry the gateway or an active workflow still needs, named.
 * @example refusalLines(apiError) // ['"out_of_stock" is raised by the active workflow "orders": keep it, or change that workflow and publish it first.']
 */
export function refusalLines(error: unknown): string[] {
  const problems = error instanceof ApiError ? (error.problem.problems ?? []) : [];
  if (problems.length === 0) return [describeError(error)];
  return problems.map((p) => {
    const raised = RAISED.exec(p.message);
    if (raised) return `"${raised[2]}" is raised by the active workflow "${raised[1]}"${raised[3] ? ` (its ${raised[3]} node)` : ''}: keep it in the catalog, or change that workflow and publish it first.`;
    const sentence = p.message.charAt(0).toUpperCase() + p.message.slice(1);
    return sentence.endsWith('.') ? sentence : `${sentence}.`;
  });
}

/** Whether two catalogs hold the same entries. */
export const sameCatalog = (a: ErrorCatalog, b: ErrorCatalog) => JSON.stringify(a.errors) === JSON.stringify(b.errors);

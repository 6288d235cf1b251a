import type { ReactNode } from 'react';
import type { ValidationProblem } from '../api/types.ts';
import type { FieldSpec } from '../forms/schema-form.ts';

/** The DOM id of a field, so a problem in the problems panel can move focus to it. */
export function fieldDomId(scope: string, path: string): string {
  return `field-${scope}-${path}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export interface FieldContext {
  /** Node id (or "workflow"), for DOM ids and undo groups. */
  scope: string;
  readOnly: boolean;
  readOnlyReason: string | undefined;
  /** Problems whose field is this path or inside it. */
  problemsAt(path: string, exact: boolean): ValidationProblem[];
  /** Ends the typing group (the field lost focus). */
  seal(): void;
  /**
   * Sets several fields of the config at once, in one undo step: a choice that fills others (a
   * fragment fills its exits). Absent where the field is not a node's config.
   */
  setFields?(fields: Record<string, unknown>, group: string): void;
  /** The config the field is in, for a control that compares its sibling fields (a fragment's exits with the node's). */
  config?: Record<string, unknown>;
}

export interface FieldControlProps {
  spec: FieldSpec;
  /** Problem path of the field, e.g. `config.cases.0.when`. */
  path: string;
  value: unknown;
  /** A change; `group` merges keystrokes in one field into one undo step. */
  onChange(value: unknown, group: string): void;
  ctx: FieldContext;
}

/** A control that draws its own frame: the field's DOM id and its problems come with it. */
export type FramedControlProps = FieldControlProps & { id: string; problems: ValidationProblem[] };

export function Problems({ id, problems }: { id: string; problems: ValidationProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <ul id={id} className="field__problems">
      {problems.map((p, i) => (
        <li key={i} className="field__error">
          {p.message}
        </li>
      ))}
    </ul>
  );
}

/** Label, description and problems around one control. */
export function Field({ id, spec, problems, children, asGroup }: { id: string; spec: FieldSpec; problems: ValidationProblem[]; children: ReactNode; asGroup?: boolean }) {
  const title = (
    <>
      {spec.title}
      {spec.required && <span className="field__required" aria-hidden="true"> *</span>}
    </>
  );
  const hint = spec.description ? <p id={`${id}-desc`} className="field__desc">{spec.description}</p> : null;
  if (asGroup)
    return (
      <fieldset className={problems.length > 0 ? 'field field--group field--problem' : 'field field--group'} aria-describedby={spec.description ? `${id}-desc` : undefined}>
        <legend>{title}</legend>
        {hint}
        {children}
        <Problems id={`${id}-problems`} problems={problems} />
      </fieldset>
    );
  return (
    <div className={problems.length > 0 ? 'field field--problem' : 'field'}>
      <label htmlFor={id}>{title}</label>
      {children}
      {hint}
      <Problems id={`${id}-problems`} problems={problems} />
    </div>
  );
}

/** The ids of the description and problems a control is described by. */
export const describedBy = (id: string, spec: FieldSpec, problems: ValidationProblem[]) =>
  [spec.description ? `${id}-desc` : '', problems.length > 0 ? `${id}-problems` : ''].filter(Boolean).join(' ') || undefined;

/** The default as a placeholder, or an example of the format. */
export const placeholderOf = (spec: FieldSpec) =>
  spec.default !== undefined && typeof spec.default !== 'object' ? `default: ${String(spec.default)}` : spec.control === 'duration' ? 'e.g. 500ms, 10s, 1m' : undefined;

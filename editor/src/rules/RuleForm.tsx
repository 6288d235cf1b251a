import { useId } from 'react';
import { isKindName } from '../../../shared/nodes/index.ts';
import type { ValidationProblem } from '../api/types.ts';
import { RULE_TEMPLATES, switchForm, unknownKinds, type RuleFields } from './rules-model.ts';

interface RuleFormProps {
  index: number;
  fields: RuleFields;
  /** The server's problems of this rule, their fields relative to it (`passes.0.1`). */
  problems: ValidationProblem[];
  onChange(fields: RuleFields): void;
  onRemove(): void;
}

/** A comma-separated list of kinds, flagging the ones the registry does not know before the server does. */
function KindsInput({ label, value, hint, onChange }: { label: string; value: string; hint?: string; onChange(value: string): void }) {
  const id = useId();
  const unknown = unknownKinds(value, isKindName);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} placeholder="jwt-verify, api-key" aria-invalid={unknown.length > 0 || undefined} aria-describedby={`${id}-hint`} onChange={(e) => onChange(e.target.value)} />
      <span id={`${id}-hint`} className={unknown.length > 0 ? 'field__error' : 'muted small'}>
        {unknown.length > 0 ? `Not a node kind: ${unknown.join(', ')}` : (hint ?? 'Node kinds, comma-separated.')}
      </span>
    </div>
  );
}

/** One rule's form: its id, description and form, and the fields of that form. */
export function RuleForm({ index, fields, problems, onChange, onRemove }: RuleFormProps) {
  const id = useId();
  const set = (change: Partial<RuleFields>) => onChange({ ...fields, ...change });
  const setGroup = (g: number, text: string) => set({ groups: fields.groups.map((t, i) => (i === g ? text : t)) });
  return (
    <fieldset className="rules__form" aria-label={`Rule ${index + 1}`}>
      <legend>
        Rule {index + 1}
        {fields.id && <code> {fields.id}</code>}
      </legend>
      <div className="rules__form-row">
        <div className="field">
          <label htmlFor={`${id}-id`}>Id</label>
          <input id={`${id}-id`} value={fields.id} onChange={(e) => set({ id: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-form`}>Form</label>
          <select id={`${id}-form`} value={fields.form} onChange={(e) => onChange(switchForm(fields, e.target.value as RuleFields['form']))}>
            {Object.keys(RULE_TEMPLATES).map((form) => (
              <option key={form} value={form}>
                {form}
              </option>
            ))}
          </select>
        </div>
        <div className="field rules__form-wide">
          <label htmlFor={`${id}-description`}>Description</label>
          <input id={`${id}-description`} value={fields.description} onChange={(e) => set({ description: e.target.value })} />
        </div>
      </div>
      {fields.form === 'every-path' && (
        <>
          <KindsInput label="Paths to" value={fields.to} hint="The kinds of node every path to which is held to the rule, comma-separated." onChange={(to) => set({ to })} />
          {fields.groups.map((group, g) => (
            <div key={g} className="rules__group">
              <KindsInput label={`Passes one of (group ${g + 1})`} value={group} onChange={(text) => setGroup(g, text)} />
              <button type="button" className="small" disabled={fields.groups.length === 1} aria-label={`Remove group ${g + 1}`} onClick={() => set({ groups: fields.groups.filter((_, i) => i !== g) })}>
                Remove group
              </button>
            </div>
          ))}
          <button type="button" className="small" onClick={() => set({ groups: [...fields.groups, ''] })}>
            Add group
          </button>
        </>
      )}
      {fields.form === 'no-success-without' && (
        <div className="rules__form-row">
          <KindsInput label="Passes one of" value={fields.groups[0] ?? ''} onChange={(text) => setGroup(0, text)} />
          <div className="field">
            <label htmlFor={`${id}-statuses`}>Statuses</label>
            <input id={`${id}-statuses`} value={fields.statuses} aria-describedby={`${id}-statuses-hint`} onChange={(e) => set({ statuses: e.target.value })} />
            <span id={`${id}-statuses-hint`} className="muted small">
              A class (2xx) or statuses, comma-separated.
            </span>
          </div>
        </div>
      )}
      {fields.form === 'url-allow-list' && (
        <div className="field">
          <label htmlFor={`${id}-allow`}>Allowed</label>
          <textarea id={`${id}-allow`} rows={Math.max(3, fields.allow.split('\n').length + 1)} spellCheck={false} value={fields.allow} aria-describedby={`${id}-allow-hint`} onChange={(e) => set({ allow: e.target.value })} />
          <span id={`${id}-allow-hint`} className="muted small">
            One per line: a URL prefix (https://api.example.com/v1), a host (api.example.com[:port]), *.domain for its subdomains, or {'${NAME}'} for URLs based on that operator variable. No patterns.
          </span>
        </div>
      )}
      {problems.length > 0 && (
        <ul className="rules__problems" aria-label={`Problems of rule ${index + 1}`}>
          {problems.map((p) => (
            <li key={`${p.field ?? ''}${p.message}`} className="field__error">
              {p.field && <code>{p.field}</code>} {p.message}
            </li>
          ))}
        </ul>
      )}
      <div>
        <button type="button" className="small" onClick={onRemove}>
          Remove rule {index + 1}
        </button>
      </div>
    </fieldset>
  );
}

import { useState } from 'react';
import { ApiError, describeError, type Api } from '../api/client.ts';
import { can } from '../api/roles.ts';
import type { ValidationProblem } from '../api/types.ts';
import { useSessionContext } from '../editor-context.ts';
import { workflowHref } from '../hooks/useHashRoute.ts';
import { useResource } from '../hooks/useResource.ts';
import { ruleSetSchema } from '../../../shared/schema/rules.ts';
import { RuleForm } from './RuleForm.tsx';
import { ruleFields, ruleOf, RULE_TEMPLATES, ruleWords, rulesText, withTemplate, type RuleFields } from './rules-model.ts';
import './rules.css';

type Violators = Awaited<ReturnType<Api['ruleViolations']>>['violators'];

/**
 * The organisation rules: what every workflow must do (guards on every path, no anonymous
 * success, approved upstreams only), checked when a draft is validated and published. Every role
 * reads them and the active workflows that break them; an admin edits them in a form per rule or
 * as JSON, and a save answers at once which active workflows the new rules break (they keep serving).
 */
export function RulesPage() {
  const { api, identity } = useSessionContext();
  const mayChange = can(identity.role, 'admin');
  const [round, setRound] = useState(0);
  const { resource } = useResource(() => api.rules(), `rules-${round}`);
  const { resource: violations } = useResource(() => api.ruleViolations(), `violations-${round}`);
  /** The admin's unsaved edit, in the form or as JSON; undefined while the saved rules are shown. */
  const [draft, setDraft] = useState<{ mode: 'form'; fields: RuleFields[] } | { mode: 'json'; text: string } | undefined>();
  const [mode, setMode] = useState<'form' | 'json'>('form');
  const [refusal, setRefusal] = useState<{ message: string; problems: ValidationProblem[] } | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [saved, setSaved] = useState<Violators | undefined>();
  const [saving, setSaving] = useState(false);

  const rules = resource.status === 'ready' ? resource.value.rules : undefined;
  const fields = draft?.mode === 'form' ? draft.fields : (rules ?? []).map(ruleFields);
  const text = draft?.mode === 'json' ? draft.text : draft?.mode === 'form' ? rulesText(draft.fields.map(ruleOf) as never) : rules ? rulesText(rules) : '';
  const violators = saved ?? (violations.status === 'ready' ? violations.value.violators : undefined);

  const edit = (next: NonNullable<typeof draft>) => {
    setDraft(next);
    setNotice(undefined);
  };
  const setFields = (next: RuleFields[]) => edit({ mode: 'form', fields: next });

  /** Switches between the form and the JSON; JSON that is not a rule set stays JSON until mended. */
  const switchMode = (next: 'form' | 'json') => {
    if (next === 'json') {
      if (draft) edit({ mode: 'json', text });
      setMode('json');
      return;
    }
    if (draft?.mode === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(draft.text);
      } catch {
        parsed = undefined;
      }
      const set = ruleSetSchema.safeParse(parsed);
      if (!set.success) return setRefusal({ message: 'The JSON is not a rule set yet: mend it (or discard it) to edit it in the form.', problems: [] });
      edit({ mode: 'form', fields: set.data.rules.map(ruleFields) });
    }
    setRefusal(undefined);
    setMode('form');
  };

  const addTemplate = (form: keyof typeof RULE_TEMPLATES) => {
    if (mode === 'json') {
      const next = withTemplate(text, form);
      if (next === undefined) return setRefusal({ message: 'The text is not a rule set\'s JSON ({"rules": [...]}): mend it before adding a rule.', problems: [] });
      edit({ mode: 'json', text: next });
    } else {
      const taken = new Set(fields.map((f) => f.id));
      let id = RULE_TEMPLATES[form].id;
      for (let n = 2; taken.has(id); n++) id = `${RULE_TEMPLATES[form].id}-${n}`;
      setFields([...fields, { ...ruleFields(RULE_TEMPLATES[form]), id }]);
    }
    setRefusal(undefined);
  };

  const save = async () => {
    let body: unknown;
    if (draft?.mode === 'json') {
      try {
        body = JSON.parse(draft.text);
      } catch (error) {
        setRefusal({ message: `The rules are not JSON: ${error instanceof Error ? error.message : String(error)}`, problems: [] });
        return;
      }
    } else body = { rules: fields.map(ruleOf) };
    setSaving(true);
    setRefusal(undefined);
    setNotice(undefined);
    try {
      const answer = await api.putRules(body);
      setDraft(undefined);
      setSaved(answer.violators);
      setNotice(`Saved ${answer.rules.length} rule${answer.rules.length === 1 ? '' : 's'}. Drafts are validated and published against them from now on; ${answer.violators.length === 0 ? 'no active workflow breaks them.' : `${answer.violators.length} active workflow${answer.violators.length === 1 ? ' breaks' : 's break'} them and keep${answer.violators.length === 1 ? 's' : ''} serving until republished.`}`);
      setRound((r) => r + 1);
    } catch (error) {
      setRefusal({ message: describeError(error), problems: error instanceof ApiError ? (error.problem.problems ?? []) : [] });
    } finally {
      setSaving(false);
    }
  };

  /** The server's problems of rule `i` (in the form), their fields relative to it. */
  const problemsOf = (i: number) =>
    mode === 'form' ? (refusal?.problems ?? []).filter((p) => p.field === `rules.${i}` || p.field?.startsWith(`rules.${i}.`)).map((p) => ({ ...p, field: p.field!.slice(`rules.${i}.`.length) || undefined })) : [];
  const unplaced = (refusal?.problems ?? []).filter((p) => mode === 'json' || !/^rules\.\d+(\.|$)/.test(p.field ?? ''));

  return (
    <main className="page rules-page">
      <div className="page__head">
        <h1>Organisation rules</h1>
        <div className="page__actions">
          <button type="button" disabled={saving} onClick={() => (setSaved(undefined), setRound((r) => r + 1))}>
            Refresh
          </button>
        </div>
      </div>
      <p className="muted">What every workflow must do, checked over its graph (fragments included) whenever a draft is validated or published, and on rollback. A draft that breaks a rule is not published; an active workflow that breaks one is listed below and keeps serving.</p>
      {!mayChange && (
        <div className="banner banner--readonly" role="note">
          <strong>Read-only.</strong> The {identity.role} role reads the rules; changing them needs the admin role.
        </div>
      )}
      {resource.status === 'loading' && <p className="loading">Loading the rules…</p>}
      {resource.status === 'error' && (
        <p className="field__error" role="alert">
          {describeError(resource.error)}
        </p>
      )}
      {rules && (
        <section aria-labelledby="rules-list">
          <h2 id="rules-list">Rules</h2>
          {rules.length === 0 ? (
            <p className="muted">No rules: workflows are held to validation only.</p>
          ) : (
            <ul className="rules__list">
              {rules.map((rule) => (
                <li key={rule.id} className="rules__rule" aria-label={`Rule ${rule.id}`}>
                  <div>
                    <code>{rule.id}</code> <span className="chip">{rule.form}</span>
                  </div>
                  <div className="rules__description">{rule.description}</div>
                  <div className="muted small">{ruleWords(rule)}</div>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {rules && mayChange && (
        <section aria-labelledby="rules-edit" className="rules__edit">
          <h2 id="rules-edit">Edit the rules</h2>
          <p className="muted small">
            Three forms: <code>every-path</code> (every path to a node of the kinds in <code>to</code> passes a node of each group in <code>passes</code>), <code>no-success-without</code> (no respond node answering <code>statuses</code> on a path passing none of <code>passes</code>), <code>url-allow-list</code> (outbound URLs within <code>allow</code>: URL prefixes, hosts, <code>*.domain</code> or <code>{'${NAME}'}</code>; no patterns). A guard counts when left by its success port.
          </p>
          <div className="page__actions">
            <div className="segmented" role="group" aria-label="Edit as">
              <button type="button" aria-pressed={mode === 'form'} onClick={() => switchMode('form')}>
                Form
              </button>
              <button type="button" aria-pressed={mode === 'json'} onClick={() => switchMode('json')}>
                JSON
              </button>
            </div>
            {(Object.keys(RULE_TEMPLATES) as Array<keyof typeof RULE_TEMPLATES>).map((form) => (
              <button key={form} type="button" className="small" onClick={() => addTemplate(form)}>
                Add {form} rule
              </button>
            ))}
          </div>
          {mode === 'form' ? (
            fields.length === 0 ? (
              <p className="muted">No rules yet: add one of the forms above.</p>
            ) : (
              fields.map((f, i) => (
                <RuleForm key={i} index={i} fields={f} problems={problemsOf(i)} onChange={(next) => setFields(fields.map((x, j) => (j === i ? next : x)))} onRemove={() => setFields(fields.filter((_, j) => j !== i))} />
              ))
            )
          ) : (
            <>
              <label htmlFor="rules-json">Rules (JSON)</label>
              <textarea id="rules-json" className="rules__json" rows={Math.min(30, Math.max(8, text.split('\n').length + 1))} spellCheck={false} value={text} onChange={(e) => edit({ mode: 'json', text: e.target.value })} />
            </>
          )}
          {refusal && (
            <div className="field__error rules__refusal" role="alert">
              <strong>The rules were not saved.</strong> {unplaced.length === 0 ? refusal.message.replace('listed below', 'shown on the rules above') : refusal.message}
              {unplaced.length > 0 && (
                <ul aria-label="Problems of the rules">
                  {unplaced.map((p) => (
                    <li key={`${p.field ?? ''}${p.message}`}>
                      {p.field && <code>{p.field}</code>} {p.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          {notice && (
            <p className="rules__notice" role="status">
              {notice}
            </p>
          )}
          <div className="page__actions">
            <button type="button" className="primary" disabled={draft === undefined || saving} title={draft === undefined ? 'Nothing changed yet' : undefined} onClick={() => void save()}>
              {saving ? 'Saving…' : 'Save rules'}
            </button>
            <button type="button" disabled={draft === undefined || saving} onClick={() => (setDraft(undefined), setRefusal(undefined))}>
              Discard changes
            </button>
          </div>
        </section>
      )}
      <section aria-labelledby="rules-violators">
        <h2 id="rules-violators">Active workflows breaking the rules</h2>
        {violators === undefined ? (
          violations.status === 'error' ? (
            <p className="field__error" role="alert">
              {describeError(violations.error)}
            </p>
          ) : (
            <p className="loading">Checking the active workflows…</p>
          )
        ) : violators.length === 0 ? (
          <p className="muted">No active workflow breaks the rules.</p>
        ) : (
          <ul className="rules__violators" aria-label="Workflows breaking the rules">
            {violators.map((v) => (
              <li key={v.workflow} aria-label={`Workflow ${v.workflow}`}>
                <a href={workflowHref(v.workflow)}>{v.name ?? v.workflow}</a> <span className="muted small">({v.workflow}, version {v.version} serving)</span>
                <ul>
                  {v.problems.map((p) => (
                    <li key={`${p.node ?? ''}${p.field ?? ''}${p.message}`} className="small">
                      {p.node && <code>{p.node}</code>} {p.message}
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}

import { useState } from 'react';
import { ApiError, describeError, type Api } from '../api/client.ts';
import { can } from '../api/roles.ts';
import type { ValidationProblem } from '../api/types.ts';
import { useSessionContext } from '../editor-context.ts';
import { workflowHref } from '../hooks/useHashRoute.ts';
import { useResource } from '../hooks/useResource.ts';
import { RULE_TEMPLATES, ruleWords, rulesText, withTemplate } from './rules-model.ts';
import './rules.css';

type Violators = Awaited<ReturnType<Api['ruleViolations']>>['violators'];

/**
 * The organisation rules: what every workflow must do (guards on every path, no anonymous
 * success, approved upstreams only), checked when a draft is validated and published. Every role
 * reads them and the active workflows that break them; an admin edits them as JSON, and a save
 * answers at once which active workflows the new rules break (they keep serving).
 */
export function RulesPage() {
  const { api, identity } = useSessionContext();
  const mayChange = can(identity.role, 'admin');
  const [round, setRound] = useState(0);
  const { resource } = useResource(() => api.rules(), `rules-${round}`);
  const { resource: violations } = useResource(() => api.ruleViolations(), `violations-${round}`);
  const [text, setText] = useState<string | undefined>();
  const [refusal, setRefusal] = useState<{ message: string; problems: ValidationProblem[] } | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [saved, setSaved] = useState<Violators | undefined>();
  const [saving, setSaving] = useState(false);

  const rules = resource.status === 'ready' ? resource.value.rules : undefined;
  const shownText = text ?? (rules ? rulesText(rules) : '');
  const changed = text !== undefined && rules !== undefined && text !== rulesText(rules);
  const violators = saved ?? (violations.status === 'ready' ? violations.value.violators : undefined);

  const addTemplate = (form: keyof typeof RULE_TEMPLATES) => {
    const next = withTemplate(shownText, form);
    if (next === undefined) return setRefusal({ message: 'The text is not a rule set\'s JSON ({"rules": [...]}): mend it before adding a rule.', problems: [] });
    setText(next);
    setRefusal(undefined);
  };

  const save = async () => {
    let body: unknown;
    try {
      body = JSON.parse(shownText);
    } catch (error) {
      setRefusal({ message: `The rules are not JSON: ${error instanceof Error ? error.message : String(error)}`, problems: [] });
      return;
    }
    setSaving(true);
    setRefusal(undefined);
    setNotice(undefined);
    try {
      const answer = await api.putRules(body);
      setText(undefined);
      setSaved(answer.violators);
      setNotice(`Saved ${answer.rules.length} rule${answer.rules.length === 1 ? '' : 's'}. Drafts are validated and published against them from now on; ${answer.violators.length === 0 ? 'no active workflow breaks them.' : `${answer.violators.length} active workflow${answer.violators.length === 1 ? ' breaks' : 's break'} them and keep${answer.violators.length === 1 ? 's' : ''} serving until republished.`}`);
      setRound((r) => r + 1);
    } catch (error) {
      setRefusal({ message: describeError(error), problems: error instanceof ApiError ? (error.problem.problems ?? []) : [] });
    } finally {
      setSaving(false);
    }
  };

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
            {(Object.keys(RULE_TEMPLATES) as Array<keyof typeof RULE_TEMPLATES>).map((form) => (
              <button key={form} type="button" className="small" onClick={() => addTemplate(form)}>
                Add {form} rule
              </button>
            ))}
          </div>
          <label htmlFor="rules-json">Rules (JSON)</label>
          <textarea id="rules-json" className="rules__json" rows={Math.min(30, Math.max(8, shownText.split('\n').length + 1))} spellCheck={false} value={shownText} onChange={(e) => (setText(e.target.value), setNotice(undefined))} />
          {refusal && (
            <div className="field__error rules__refusal" role="alert">
              <strong>The rules were not saved.</strong> {refusal.message}
              {refusal.problems.length > 0 && (
                <ul aria-label="Problems of the rules">
                  {refusal.problems.map((p) => (
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
            <button type="button" className="primary" disabled={!changed || saving} title={changed ? undefined : 'Nothing changed yet'} onClick={() => void save()}>
              {saving ? 'Saving…' : 'Save rules'}
            </button>
            <button type="button" disabled={!changed || saving} onClick={() => (setText(undefined), setRefusal(undefined))}>
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

/** Organisation rules: every role reads them and the workflows breaking them, only an admin changes them. */
import { rulesChangedSchema, rulesViewSchema, ruleViolationsSchema } from '../../../shared/admin/index.ts';
import { ruleProblemsSliced, runPaced, type ValidationProblem } from '../../../shared/compile/index.ts';
import { ruleSetSchema, type Rule, type RuleSet } from '../../../shared/schema/index.ts';
import { createPace } from '../../compile/pace.ts';
import { auditActor } from '../../store/audit.ts';
import type { StoreState } from '../../store/types.ts';
import type { AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

/** What a rule set change did, in one line for the audit log: "added a; changed b; removed c". */
function rulesChangeWords(before: readonly Rule[], after: readonly Rule[]): string {
  const was = new Map(before.map((r) => [r.id, JSON.stringify(r)]));
  const now = new Set(after.map((r) => r.id));
  const added = after.filter((r) => !was.has(r.id)).map((r) => r.id);
  const changed = after.filter((r) => was.has(r.id) && was.get(r.id) !== JSON.stringify(r)).map((r) => r.id);
  const removed = before.filter((r) => !now.has(r.id)).map((r) => r.id);
  const parts = [added.length > 0 ? `added ${added.join(', ')}` : '', changed.length > 0 ? `changed ${changed.join(', ')}` : '', removed.length > 0 ? `removed ${removed.join(', ')}` : ''].filter((p) => p !== '');
  const line = parts.length === 0 ? 'unchanged' : parts.join('; ');
  return `${line} (${after.length} rule${after.length === 1 ? '' : 's'} now)`.slice(0, 1_000);
}

export function ruleEndpoints(context: AdminContext): Endpoint[] {
  const { store, options } = context;

  /**
   * The active versions of workflows (archived ones serve nothing) that break the rules of
   * `state`, each validated as it serves (its fragments inlined, its stored credentials as
   * published) and then held to the rules. Listed only: they keep serving until republished.
   */
  async function violators(state: StoreState) {
    const rules = state.rules?.rules ?? [];
    if (rules.length === 0) return [];
    const fragments = await options.lifecycle.fragmentLibrary.resolver(state);
    const found: Array<{ workflow: string; name?: string; version: number; problems: ValidationProblem[] }> = [];
    for (const record of [...state.workflows.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      if (record.active === undefined || record.archived) continue;
      const document = await store.document(record.versions.find((v) => v.version === record.active)!.hash);
      const result = await context.validate(document, { fragments, allowStoredCredentials: true });
      if (!result.ok) continue; // it cannot be served as it is now: a publish or rollback of it says why
      const problems = await runPaced(ruleProblemsSliced(result.graph, rules), createPace(options.sliceMs));
      if (problems.length > 0) found.push({ workflow: record.id, ...(result.graph.document.name ? { name: result.graph.document.name } : {}), version: record.active, problems });
    }
    return found;
  }

  /** The violators of the latest revision asked about (every active workflow validated: a viewer asking again costs nothing). */
  let latest: { revision: number; found: ReturnType<typeof violators> } | undefined;

  return [
    defineEndpoint({
      method: 'get', path: '/rules', permission: 'read', summary: 'The organisation rules every workflow is validated and published against', response: rulesViewSchema,
      handler: async () => {
        const state = await store.state();
        return { revision: state.revision, rules: state.rules?.rules ?? [] };
      },
    }),
    defineEndpoint({
      method: 'put', path: '/rules', permission: 'admin', summary: 'Replace the organisation rules; answers the set and the active workflows it leaves breaking it (they keep serving)', body: ruleSetSchema, response: rulesChangedSchema,
      handler: async ({ actor, body }) => {
        const rules: RuleSet = { rules: body.rules };
        const { revision } = await store.transact((state) => ({
          state: { ...state, rules },
          entry: { time: new Date().toISOString(), ...auditActor(actor), action: 'rules.update', detail: rulesChangeWords(state.rules?.rules ?? [], rules.rules) },
          result: undefined,
        }));
        // the violators of the set just stored, even when another change came in between
        const state = await store.state();
        return { revision, rules: rules.rules, violators: await violators({ ...state, rules }) };
      },
    }),
    defineEndpoint({
      method: 'get', path: '/rules/violations', permission: 'read', summary: 'Every active workflow that breaks the current organisation rules, with its problems (listed, never unpublished)', response: ruleViolationsSchema,
      handler: async () => {
        const state = await store.state();
        // everything the list depends on is in the state: one walk per revision, however often it is asked
        if (latest?.revision !== state.revision) {
          const found = violators(state);
          latest = { revision: state.revision, found };
          found.catch(() => latest?.found === found && (latest = undefined));
        }
        return { revision: state.revision, violators: await latest.found };
      },
    }),
  ];
}

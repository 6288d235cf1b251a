import { useEffect, useState } from 'react';
import type { CompareAnswer } from '../../../shared/admin/index.ts';
import { describeError } from '../api/client.ts';
import { useSessionContext } from '../editor-context.ts';

type Outcome = CompareAnswer['changed'][number]['from'];

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
/** "403 denied at scopes.denied (insufficient-scope)". */
const outcomeWords = (o: Outcome) => `${o.status} ${o.outcome}${o.node !== undefined ? ` at ${o.node}.${o.port}` : ''}${o.problem !== undefined ? ` (${o.problem.slice(o.problem.lastIndexOf('/') + 1)})` : ''}`;

/** One change as the dialog's line says it: "200 -> 403 at scopes.denied". */
const changeWords = (g: CompareAnswer['changed'][number]) => `${g.from.status} -> ${g.to.status}${g.to.outcome !== 'ok' && g.to.node !== undefined ? ` at ${g.to.node}.${g.to.port}` : ''}`;

/**
 * Differential replay in the publish dialog: the recently recorded requests and the draft's
 * tests run through the active version and the draft in the simulator, and how many would be
 * answered differently, expandable to which. Shown only when there is an active version.
 */
export function ReplayCompare({ workflowId, hasActive, revision }: { workflowId: string; hasActive: boolean; revision: number }) {
  const { api } = useSessionContext();
  const [answer, setAnswer] = useState<CompareAnswer | undefined>();
  const [failure, setFailure] = useState<string | undefined>();

  useEffect(() => {
    if (!hasActive) return;
    let stale = false;
    setAnswer(undefined);
    setFailure(undefined);
    api.compare(workflowId).then(
      (a) => !stale && setAnswer(a),
      (e: unknown) => !stale && setFailure(describeError(e)),
    );
    return () => {
      stale = true;
    };
  }, [api, workflowId, hasActive, revision]);

  if (!hasActive) return null;
  const changed = answer?.changed.reduce((n, g) => n + g.count, 0) ?? 0;
  const replayed = answer && `Replayed ${count(answer.recorded, 'recent request')}${answer.tests > 0 ? ` and ${count(answer.tests, 'test')}` : ''}`;
  return (
    <section className="replay-compare" aria-label="Replayed requests" aria-busy={answer === undefined && failure === undefined}>
      {answer === undefined && failure === undefined && <p className="muted">Replaying recent requests through the draft…</p>}
      {failure !== undefined && <p className="muted">Recent requests could not be replayed: {failure}</p>}
      {answer !== undefined && changed === 0 && (
        <p>
          {replayed}: none would be answered differently.
          {answer.skipped.length > 0 && <span className="muted"> {count(answer.skipped.length, 'request')} could not be replayed.</span>}
        </p>
      )}
      {answer !== undefined && changed > 0 && (
        <details>
          <summary>
            {replayed}: <strong>{changed} would change</strong>: {answer.changed.length === 1 ? changeWords(answer.changed[0]!) : answer.changed.map((g) => `${g.count} × ${changeWords(g)}`).join('; ')}
          </summary>
          {answer.changed.map((group, i) => (
            <div key={i} className="replay-compare__group">
              <p>
                {count(group.count, 'request')}: {outcomeWords(group.from)} → {outcomeWords(group.to)}
              </p>
              <ul style={{ margin: '4px 0 0', paddingLeft: 18, fontSize: 13 }} aria-label={`Requests: ${outcomeWords(group.from)} → ${outcomeWords(group.to)}`}>
                {group.requests.map((r, j) => (
                  <li key={j}>
                    <code>
                      {r.method} {r.path}
                    </code>
                    {r.test !== undefined ? ` test "${r.test}"` : ''}
                    {r.partner !== undefined ? ` · ${r.partner}` : ''}
                    {r.at !== undefined ? ` · ${new Date(r.at).toLocaleString()}` : ''}
                  </li>
                ))}
                {group.count > group.requests.length && <li className="muted">and {group.count - group.requests.length} more</li>}
              </ul>
            </div>
          ))}
        </details>
      )}
    </section>
  );
}

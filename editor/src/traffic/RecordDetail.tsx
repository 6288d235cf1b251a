import { useCallback, useRef } from 'react';
import { describeError, type EvidenceRecord, type EvidenceTrace } from '../api/client.ts';
import type { KindsPayload } from '../api/types.ts';
import { useSessionContext } from '../editor-context.ts';
import type { DraftDocument } from '../graph/convert.ts';
import { directionOf, laidOut, modelOf } from '../graph/layout.ts';
import { versionHref } from '../hooks/useHashRoute.ts';
import { useResource, type Resource } from '../hooks/useResource.ts';
import { statusClass } from '../components/PreviewPanel.tsx';
import { outcomeClass } from './Histogram.tsx';
import { RecordCanvas } from './RecordCanvas.tsx';
import { outcomeWords, recordPath, stepsOf, timeText } from './traffic-model.ts';

type AuditEntry = EvidenceTrace['audit'][number];

const PAST: Record<string, string> = { publish: 'published', suspend: 'suspended', reactivate: 'reactivated', create: 'created', update: 'updated', rollback: 'rolled back', deprecate: 'deprecated', retire: 'retired', archive: 'archived', restore: 'restored', delete: 'deleted', save: 'saved', unpublish: 'unpublished' };

/** An audit entry in words: "published orders version 1", "suspended partner globex"; other actions as they are named ("partner.key.create"). */
function actionWords(e: AuditEntry): string {
  const parts = e.action.split('.');
  const verb = parts.length === 2 ? PAST[parts[1]!] : undefined;
  const target = parts[0] === 'workflow' && e.workflow ? `${e.workflow}${e.version === undefined ? '' : ` version ${e.version}`}` : parts[0] === 'partner' && e.partner ? `partner ${e.partner}` : [e.workflow && `workflow ${e.workflow}`, e.partner && `partner ${e.partner}`, e.product && `product ${e.product}`, e.plan && `plan ${e.plan}`, e.fragment && `fragment ${e.fragment}`].filter(Boolean).join(', ');
  if (verb === undefined) return `${e.action}${target ? ` (${target})` : ''}`;
  return parts[0] === 'workflow' || parts[0] === 'partner' ? `${verb} ${target}`.trim() : `${verb} ${parts[0]}${target ? ` (${target})` : ''}`;
}

/** The version that served a record, drawn as it was, and whether it still serves. */
async function servedGraph(api: ReturnType<typeof useSessionContext>['api'], record: EvidenceRecord) {
  if (record.workflow === null || record.version === null) return undefined;
  const [detail, versions] = await Promise.all([api.version(record.workflow, record.version), api.versions(record.workflow).catch(() => undefined)]);
  const document = detail.document as DraftDocument;
  const direction = directionOf(record.workflow, document);
  const model = modelOf(await laidOut(document, direction));
  return { model, direction, active: versions?.active ?? null, name: document.name };
}

/**
 * One request, opened from the Traffic table: the workflow drawn as it was in the version that
 * served it with the request's node path lit, the problem the catalog answers for its problem type,
 * and beside them what the audit log says around that time (who published the version, the
 * partner's suspension, the entries before and after).
 */
export function RecordDetail({ traceId, backHref, kinds }: { traceId: string; backHref: string; kinds: Resource<KindsPayload> }) {
  const { api } = useSessionContext();
  // A record opened from the table (the row is gone): the keyboard goes on from its Back link.
  const focused = useRef(false);
  const focusOnce = useCallback((link: HTMLAnchorElement | null) => {
    if (link === null || focused.current) return;
    focused.current = true;
    link.focus();
  }, []);
  const { resource } = useResource(async () => {
    const trace = await api.evidenceTrace(traceId);
    const record = trace.records.at(-1)!;
    const [graph, catalog, fragments] = await Promise.all([
      servedGraph(api, record).catch((e: unknown) => ({ error: describeError(e) })),
      record.problem === null ? undefined : api.catalog().catch(() => undefined),
      api.fragments().then((f) => ({ status: 'ready' as const, value: f.fragments }), (error: unknown) => ({ status: 'error' as const, error })),
    ]);
    return { trace, record, graph, catalog, fragments };
  }, `trace-${traceId}`);

  const back = (
    <a className="back" href={backHref} ref={focusOnce}>
      ← Back to the traffic
    </a>
  );
  if (resource.status === 'loading') return <p className="loading">Opening trace {traceId}…</p>;
  if (resource.status === 'error')
    return (
      <div className="traffic-detail">
        {back}
        <p className="field__error" role="alert">
          Cannot open trace {traceId}. {describeError(resource.error)}
        </p>
      </div>
    );
  const { trace, record, graph, catalog, fragments } = resource.value;
  const steps = stepsOf(record.nodes);
  const problemEntry = record.problem === null || catalog === undefined ? undefined : Object.entries(catalog.errors).find(([, e]) => e.type === record.problem);
  const at = new Date(record.time).toISOString();
  const split = trace.audit.findIndex((e) => e.time > at);
  const before = split < 0 ? trace.audit : trace.audit.slice(0, split);
  const after = split < 0 ? [] : trace.audit.slice(split);
  const servedEntry = [...before].reverse().find((e) => e.action === 'workflow.publish' && e.workflow === record.workflow && e.version === record.version);
  const statusEntry = [...before].reverse().find((e) => e.partner === record.partner && (e.action === 'partner.suspend' || e.action === 'partner.reactivate'));
  const entry = (e: AuditEntry) => (
    <li key={e.seq} className={`timeline__entry${e === servedEntry ? ' timeline__entry--served' : ''}${e === statusEntry ? ' timeline__entry--status' : ''}`}>
      <time dateTime={e.time}>{timeText(Date.parse(e.time))}</time>
      <span>
        <strong>{e.actor}</strong> <span className="muted">({e.role}{e.via ? ` via ${e.via}` : ''})</span> {actionWords(e)}
      </span>
      {e.detail && <span className="timeline__detail">{e.detail}</span>}
    </li>
  );

  return (
    <div className="traffic-detail">
      <div className="traffic-detail__head">
        {back}
        <h2>
          {record.method} {record.route ?? '(no route)'} <span className={statusClass(record.status)}>{record.status}</span> <span className={`chip ${outcomeClass(record.outcome)}`}>{outcomeWords(record.outcome)}</span>
        </h2>
        <span className="muted small">
          trace <code>{record.traceId}</code>
        </span>
      </div>
      {trace.records.length > 1 && (
        <p className="muted small" role="note">
          This trace holds {trace.records.length} requests: the last is shown.
        </p>
      )}
      <div className="traffic-detail__body">
        <section className="traffic-detail__graph" aria-labelledby="served-heading">
          <div className="traffic-detail__graph-head">
            <h3 id="served-heading">
              {record.workflow === null ? 'No workflow served this request' : `${record.workflow}, version ${record.version}`}
            </h3>
            {graph && !('error' in graph) && record.workflow !== null && record.version !== null && (
              <>
                <span className="chip chip--served">served this request</span>
                {graph.active !== null && graph.active !== record.version && <span className="chip chip--now">version {graph.active} serves now</span>}
                {graph.active === record.version && <span className="chip chip--active">still active</span>}
                <a className="traffic-detail__open" href={versionHref(record.workflow, record.version)}>
                  Open version {record.version} in the editor
                </a>
              </>
            )}
          </div>
          {graph === undefined ? (
            <p className="muted">No route matched: the gateway answered before any workflow ran.</p>
          ) : 'error' in graph ? (
            <p className="field__error" role="alert">
              Cannot read version {record.version} of {record.workflow}. {graph.error}
            </p>
          ) : kinds.status !== 'ready' ? (
            <p className="loading">Loading node kinds…</p>
          ) : (
            <div className="traffic-detail__canvas">
              <RecordCanvas
                model={graph.model}
                kinds={kinds.value}
                direction={graph.direction}
                fragments={fragments}
                path={recordPath(record.nodes, graph.model.edges.map((e) => ({ from: e.source, port: e.sourceHandle ?? '', to: e.target })), `Path of trace ${record.traceId}`)}
                label={`Version ${record.version} of ${record.workflow}, the path of trace ${record.traceId} lit`}
              />
            </div>
          )}
          <h3 className="traffic-detail__sub">Node path</h3>
          {steps.length === 0 ? (
            <p className="muted">No node ran.</p>
          ) : (
            <ol className="traffic-detail__path" aria-label="Node path">
              {steps.map((s, i) => (
                <li key={i}>
                  <code>{s.node}</code>
                  {s.port && (
                    <>
                      {' '}
                      left by <code>{s.port}</code>
                    </>
                  )}
                </li>
              ))}
            </ol>
          )}
        </section>

        <aside className="traffic-detail__side" aria-label="Request details">
          <section aria-labelledby="request-heading">
            <h3 id="request-heading">Request</h3>
            <dl className="facts">
              <dt>Time</dt>
              <dd>{timeText(record.time)}</dd>
              <dt>Partner</dt>
              <dd>{record.partner ?? <span className="muted">none</span>}{record.product && <span className="muted"> · product {record.product}</span>}</dd>
              <dt>Credential</dt>
              <dd>{record.credential ?? <span className="muted">none admitted</span>}{record.keyId && <span className="muted"> · key {record.keyId}</span>}</dd>
              {record.subject && (
                <>
                  <dt>Subject</dt>
                  <dd><code>{record.subject}</code></dd>
                </>
              )}
              <dt>Took</dt>
              <dd>{record.ms.toFixed(1)} ms{record.upstreamStatus !== null && <span className="muted"> · upstream {record.upstreamStatus}{record.upstreamMs !== null ? ` in ${record.upstreamMs.toFixed(1)} ms` : ''}</span>}</dd>
              {record.model && (
                <>
                  <dt>Model</dt>
                  <dd>{record.model}{record.inputTokens !== null && <span className="muted"> · {record.inputTokens} in, {record.outputTokens ?? 0} out tokens</span>}</dd>
                </>
              )}
              <dt>Replica</dt>
              <dd><code>{record.replica}</code></dd>
            </dl>
          </section>

          {record.problem !== null && (
            <section aria-labelledby="problem-heading" className="traffic-detail__problem">
              <h3 id="problem-heading">Problem answered</h3>
              <p className="muted small">The catalog’s entry for this problem type, as the gateway renders it; the request’s own body is not stored.</p>
              {problemEntry ? (
                <>
                  <pre className="code traffic-detail__body-text" aria-label="Problem body">
                    {JSON.stringify({ type: problemEntry[1].type, title: problemEntry[1].title, status: problemEntry[1].status, detail: problemEntry[1].detail }, null, 2)}
                  </pre>
                  <p className="small">
                    Catalog entry <code>{problemEntry[0]}</code>
                    {problemEntry[1].status !== record.status && <span className="muted"> (the catalog says {problemEntry[1].status} now; the request was answered {record.status})</span>}
                  </p>
                </>
              ) : (
                <p className="small">
                  <code>{record.problem}</code>: {catalog === undefined ? 'the catalog could not be read.' : 'the catalog has no entry with this type now.'}
                </p>
              )}
            </section>
          )}

          <section aria-labelledby="audit-heading">
            <h3 id="audit-heading">Audit log around it</h3>
            <ul className="facts-list">
              <li>
                {trace.served ? (
                  <>
                    Version {trace.served.version} was published {timeText(Date.parse(trace.served.publishedAt))} by <strong>{trace.served.publishedBy}</strong>
                    {trace.served.note && <> — “{trace.served.note}”</>}
                  </>
                ) : (
                  <span className="muted">No publication of the serving version in the audit log.</span>
                )}
              </li>
              {trace.partnerSuspended !== null && (
                <li className={trace.partnerSuspended ? 'traffic-detail__suspended' : undefined}>
                  Partner {record.partner} was {trace.partnerSuspended ? 'suspended' : 'not suspended'} at the time
                  {statusEntry && trace.partnerSuspended && <> (by {statusEntry.actor}{statusEntry.detail ? `: ${statusEntry.detail}` : ''})</>}.
                </li>
              )}
            </ul>
            <ol className="timeline" aria-label="Audit timeline">
              {before.map(entry)}
              <li className="timeline__entry timeline__entry--request" aria-current="true">
                <time dateTime={at}>{timeText(record.time)}</time>
                <span>
                  <strong>This request</strong> answered {record.status} ({outcomeWords(record.outcome)})
                </span>
              </li>
              {after.map(entry)}
            </ol>
          </section>
        </aside>
      </div>
    </div>
  );
}

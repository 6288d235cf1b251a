import { useEffect, useId, useState, type ReactNode } from 'react';
import type { Api } from '../api/client.ts';
import type { WorkflowView } from '../api/types.ts';

/** What a canary is started (or changed) with, as the admin API takes it. */
export interface CanaryStart {
  version?: number;
  share: number;
  sticky: { by: 'partner' | 'subject' | 'random' } | { by: 'header'; header: string };
  abort: { margin: number; minSample: number };
}

type Canary = NonNullable<WorkflowView['canary']>;
type Counts = Awaited<ReturnType<Api['canary']>>['sides'];

export interface CanaryPanelProps {
  api: Api;
  workflow: WorkflowView;
  canPublish: boolean;
  publishReason: string | undefined;
  busy: boolean;
  onStart(body: CanaryStart, what: string): void;
  onPromote(version: number): void;
  onAbort(version: number): void;
}

const stickiness = (sticky: Canary['sticky']) => (sticky.by === 'header' ? `the ${sticky.header} header` : sticky.by === 'random' ? 'nothing (random per request)' : `its ${sticky.by}`);
const rate = (value: number | null) => (value === null ? '–' : `${value.toFixed(1)}%`);

/** Both sides of the running canary, counted every few seconds while the panel is open. */
function useCanaryCounts(api: Api, workflow: WorkflowView): { sides: Counts; counted: string } | undefined {
  const [counts, setCounts] = useState<{ sides: Counts; counted: string }>();
  const running = workflow.canary?.id;
  useEffect(() => {
    if (running === undefined) return setCounts(undefined);
    let stopped = false;
    const read = () =>
      api.canary(workflow.id).then(
        (view) => !stopped && setCounts({ sides: view.sides, counted: view.counted }),
        () => undefined,
      );
    void read();
    const timer = setInterval(() => void read(), 2_000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, workflow.id, running]);
  return counts;
}

/**
 * The canary of a workflow: with one running, both versions' requests and error/problem rates side
 * by side, its share to change, promote and abort; without one, a form to start one from the draft
 * or a published version.
 */
export function CanaryPanel({ api, workflow, canPublish, publishReason, busy, onStart, onPromote, onAbort }: CanaryPanelProps) {
  const canary = workflow.canary;
  const counts = useCanaryCounts(api, workflow);
  const candidates = workflow.versions.filter((v) => v.version !== workflow.active && !v.retired).sort((a, b) => b.version - a.version);
  const [candidate, setCandidate] = useState(workflow.draft ? 'draft' : String(candidates[0]?.version ?? ''));
  const [share, setShare] = useState(String(canary?.share ?? 10));
  const [by, setBy] = useState<CanaryStart['sticky']['by']>(canary?.sticky.by ?? 'partner');
  const [header, setHeader] = useState(canary?.sticky.by === 'header' ? canary.sticky.header : 'x-caller');
  const [margin, setMargin] = useState(String(canary?.abort.margin ?? 5));
  const [minSample, setMinSample] = useState(String(canary?.abort.minSample ?? 100));
  const deny = canPublish ? {} : { title: publishReason, 'aria-description': publishReason };
  const ids = useId();
  /** A labelled control: the label names it by id, never by the text of what it holds. */
  const field = (name: string, text: string, control: (id: string) => ReactNode) => (
    <div className="field">
      <label htmlFor={`${ids}-${name}`}>{text}</label>
      {control(`${ids}-${name}`)}
    </div>
  );
  if (workflow.active === null) return null;
  if (!canary && candidates.length === 0 && !workflow.draft) return null;

  const body = (): CanaryStart => ({
    ...(canary || candidate === 'draft' ? {} : { version: Number(candidate) }),
    share: Number(share),
    sticky: by === 'header' ? { by, header } : { by },
    abort: { margin: Number(margin), minSample: Number(minSample) },
  });
  const settings = (
    <div className="canary__settings">
      {field('share', 'Share to the candidate (%)', (id) => <input id={id} type="number" min={1} max={100} value={share} onChange={(e) => setShare(e.target.value)} />)}
      {field('sticky', 'Keep each caller on one version by', (id) => (
        <select id={id} value={by} onChange={(e) => setBy(e.target.value as CanaryStart['sticky']['by'])}>
          <option value="partner">partner</option>
          <option value="subject">token subject</option>
          <option value="header">a header</option>
          <option value="random">nothing (random)</option>
        </select>
      ))}
      {by === 'header' && field('header', 'Header name', (id) => <input id={id} value={header} onChange={(e) => setHeader(e.target.value)} />)}
      {field('margin', "Abort when the candidate's error rate exceeds the active's by (points)", (id) => <input id={id} type="number" min={0.1} max={100} step={0.1} value={margin} onChange={(e) => setMargin(e.target.value)} />)}
      {field('sample', 'after this many requests on each side', (id) => <input id={id} type="number" min={10} value={minSample} onChange={(e) => setMinSample(e.target.value)} />)}
    </div>
  );

  if (!canary)
    return (
      <section className="canary" aria-label="Canary">
        <h3>Canary</h3>
        <p className="muted small">Serve a version to a share of the requests beside version {workflow.active}, then promote it or abort. The gateway aborts on its own when the candidate does worse.</p>
        {field('candidate', 'Candidate', (id) => (
          <select id={id} value={candidate} onChange={(e) => setCandidate(e.target.value)}>
            {workflow.draft && <option value="draft">the draft (published now as a new version)</option>}
            {candidates.map((v) => (
              <option key={v.version} value={String(v.version)}>
                version {v.version}
              </option>
            ))}
          </select>
        ))}
        {settings}
        <button type="button" className="primary" disabled={!canPublish || busy || candidate === ''} {...deny} onClick={() => onStart(body(), `Canary started: ${share}% of the requests go to the candidate`)}>
          Start canary
        </button>
      </section>
    );

  const side = (name: string, s: NonNullable<Counts>['active'] | undefined) => (
    <td>
      <strong>{name}</strong>
      <div>{s?.requests ?? 0} requests</div>
      <div aria-label={`${name} error rate`}>{rate(s?.badRate ?? null)} errors or problems</div>
    </td>
  );
  return (
    <section className="canary canary--running" aria-label="Canary">
      <h3>
        Canary: version {canary.version} beside version {workflow.active}
      </h3>
      <p className="muted small">
        {canary.share}% of the requests go to version {canary.version}; a caller stays on one version by {stickiness(canary.sticky)}. Aborted by the gateway if its error rate exceeds version {workflow.active}'s by more than {canary.abort.margin} points after {canary.abort.minSample} requests on each side. Started by {canary.startedBy}, {new Date(canary.startedAt).toLocaleString()}.
      </p>
      <table className="canary__sides" aria-label="Both versions side by side">
        <tbody>
          <tr>
            {side(`Active v${workflow.active}`, counts?.sides?.active)}
            {side(`Candidate v${canary.version}`, counts?.sides?.candidate)}
          </tr>
        </tbody>
      </table>
      <p className="muted small">{counts?.counted === 'replicas' ? 'Counted over every replica.' : 'Counted by this gateway process.'}</p>
      {settings}
      <div className="version__actions">
        <button type="button" disabled={!canPublish || busy} {...deny} onClick={() => onStart(body(), `Canary changed: ${share}% of the requests go to version ${canary.version}`)}>
          Change canary
        </button>
        <button type="button" className="primary" disabled={!canPublish || busy} {...deny} onClick={() => onPromote(canary.version)}>
          Promote version {canary.version}
        </button>
        <button type="button" className="danger" disabled={!canPublish || busy} {...deny} onClick={() => onAbort(canary.version)}>
          Abort canary
        </button>
      </div>
    </section>
  );
}

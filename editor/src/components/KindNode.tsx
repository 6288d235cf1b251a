import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo, useContext } from 'react';
import { DirectionContext, HighlightContext, KindsContext, LiveContext, ReadOnlyContext } from '../editor-context.ts';
import type { LiveNode } from '../hooks/useLiveCounts.ts';
import { formatRate } from './LiveControls.tsx';
import type { FlowNode } from '../graph/convert.ts';
import { downWidth } from '../graph/layout.ts';
import { portsOf, unwiredText, type PortSpec } from '../graph/ports.ts';
import { useNodeMarks } from '../hooks/useNodeMarks.ts';
import { useFragment } from '../fragments/fragments-context.ts';

interface PortRowProps {
  nodeId: string;
  port: PortSpec;
  wired: boolean;
  terminal: boolean;
  problem: boolean;
  connectable: boolean;
  /** Live mode: how often the port was taken. */
  live: LiveNode['ports'][string] | undefined;
  liveOn: boolean;
  /** Top to bottom: the port's handle is on its bottom edge, else on its right. */
  down: boolean;
}

/** One output port: its name, what happens when it is left unwired, and its handle. */
const PortRow = memo(function PortRow({ nodeId, port, wired, terminal, problem, connectable, live, liveOn, down }: PortRowProps) {
  return (
    <li className={problem ? 'port port--problem' : wired ? 'port port--wired' : 'port'} title={port.description}>
      <span className="port__name">{port.name}</span>
      {liveOn ? (
        <span className={live && live.count > 0 ? 'port__live port__live--taken' : 'port__live'} aria-label={`${port.name} taken ${live?.count ?? 0} times`}>
          {formatRate(live?.perSecond, live?.count ?? 0)}
        </span>
      ) : (
        !wired && <span className="port__unwired">{terminal ? 'ends the request' : unwiredText(port)}</span>
      )}
      <Handle
        type="source"
        position={down ? Position.Bottom : Position.Right}
        id={port.name}
        className="port__handle"
        isConnectable={connectable && !terminal}
        role="img"
        aria-label={`Port ${port.name} of ${nodeId}`}
      />
    </li>
  );
});

/** A subflow node's fragment: its name, and the version it runs (pinned, or the fragment's active one). */
function FragmentLine({ config }: { config: Record<string, unknown> }) {
  const fragment = useFragment(config.fragment);
  if (typeof config.fragment !== 'string' || config.fragment === '') return <div className="kind-node__fragment muted">no fragment chosen</div>;
  const version = typeof config.version === 'number' ? `v${config.version}` : 'active';
  return (
    <div className="kind-node__fragment" title={`Fragment ${fragment?.name ?? config.fragment}, ${version === 'active' ? 'its active version' : `pinned to version ${config.version}`}`}>
      <span className="kind-node__fragment-name">{fragment?.name ?? config.fragment}</span> <span className="chip chip--version">{version}</span>
    </div>
  );
}

/**
 * The one node component: every kind is drawn from its descriptor — title and category from
 * GET /admin/api/kinds, one handle per output port (ports.ts), and the marks validation and diffs
 * put on it. Memoised, and its props only change when the node's own data does, so a 300-node
 * workflow redraws one node per edit.
 */
function KindNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const kinds = useContext(KindsContext);
  const readOnly = useContext(ReadOnlyContext);
  const marks = useNodeMarks(id);
  const liveCounts = useContext(LiveContext);
  const live = liveCounts?.nodes.get(id);
  const highlight = useContext(HighlightContext);
  const down = useContext(DirectionContext) === 'TB';
  const onPath = highlight?.nodes.get(id);
  const info = kinds.get(data.kind);
  const ports = portsOf(data.kind, data.config);
  const terminal = info?.terminal === true;
  const problems = marks.problems.length;

  let className = kinds.classOf(data.kind);
  if (selected) className += ' kind-node--selected';
  if (problems > 0) className += ' kind-node--problem';
  if (marks.diff) className += ` kind-node--${marks.diff}`;
  if (liveCounts && !live?.runs) className += ' kind-node--idle';
  if (highlight) className += onPath ? ' kind-node--on-path' : ' kind-node--off-path';
  if (down) className += ' kind-node--down';

  return (
    <div className={className} style={down ? { width: downWidth(ports.length) } : undefined} title={marks.diff === 'changed' ? `Changed: ${marks.changedFields.join(', ')}` : (info?.description ?? `Unknown kind "${data.kind}"`)}>
      <Handle type="target" position={down ? Position.Top : Position.Left} id="in" className="kind-node__in" isConnectable={!readOnly && !marks.start} role="img" aria-label={`Into ${id}`} />
      <div className="kind-node__head">
        <span className="kind-node__kind">{info?.title ?? `Unknown kind: ${data.kind}`}</span>
        {marks.start && <span className="chip chip--start">Start</span>}
        {onPath?.ms !== undefined && (
          <span className="chip chip--duration" aria-label={`${id} took ${onPath.ms.toFixed(2)} ms`}>
            {onPath.ms < 1 ? `${(onPath.ms * 1000).toFixed(0)} µs` : `${onPath.ms.toFixed(1)} ms`}
          </span>
        )}
        {marks.diff && <span className={`chip chip--${marks.diff}`}>{marks.diff}</span>}
        {problems > 0 && (
          <span className="chip chip--problem" role="status" aria-label={`${problems} problem${problems === 1 ? '' : 's'} on ${id}`} title={marks.problems.map((p) => p.message).join('\n')}>
            {problems}
          </span>
        )}
      </div>
      <div className="kind-node__name">{data.label || id}</div>
      {data.kind === 'subflow' && <FragmentLine config={data.config} />}
      {liveCounts && (
        <div className="kind-node__live" aria-label={`Live: ${id} ran ${live?.runs ?? 0} times`}>
          {live?.runs ?? 0} runs{live?.p50Ms != null ? ` · p50 ${live.p50Ms} ms · p99 ${live.p99Ms} ms` : ''}
        </div>
      )}
      {data.label ? <div className="kind-node__id">{id}</div> : null}
      {ports.length > 0 && (
        <ul className="kind-node__ports" aria-label={`Ports of ${id}`}>
          {ports.map((port) => (
            <PortRow
              key={port.name}
              nodeId={id}
              port={port}
              wired={marks.wired.has(port.name)}
              terminal={terminal}
              problem={marks.portProblems.has(port.name)}
              connectable={!readOnly}
              live={live?.ports[port.name]}
              liveOn={liveCounts !== undefined}
              down={down}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

export const KindNode = memo(KindNodeView);

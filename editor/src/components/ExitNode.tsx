import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo, useContext } from 'react';
import { DirectionContext, ReadOnlyContext } from '../editor-context.ts';
import type { FlowNode } from '../graph/convert.ts';
import { useNodeMarks } from '../hooks/useNodeMarks.ts';

/**
 * An exit of a fragment, drawn as a node edges can go to and none leave: an edge to it leaves
 * the fragment by the subflow node's port of the same name.
 */
function ExitNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const readOnly = useContext(ReadOnlyContext);
  const down = useContext(DirectionContext) === 'TB';
  const marks = useNodeMarks(id);
  const problems = marks.problems.length;
  let className = 'exit-node';
  if (selected) className += ' exit-node--selected';
  if (problems > 0) className += ' exit-node--problem';
  return (
    <div className={className} title={data.label ?? `The fragment leaves by "${id}"`}>
      <Handle type="target" position={down ? Position.Top : Position.Left} id="in" className="exit-node__in" isConnectable={!readOnly} role="img" aria-label={`Into exit ${id}`} />
      <span className="exit-node__tag">Exit</span>
      <span className="exit-node__name">{id}</span>
      {problems > 0 && (
        <span className="chip chip--problem" role="status" aria-label={`${problems} problem${problems === 1 ? '' : 's'} on exit ${id}`} title={marks.problems.map((p) => p.message).join('\n')}>
          {problems}
        </span>
      )}
    </div>
  );
}

export const ExitNode = memo(ExitNodeView);

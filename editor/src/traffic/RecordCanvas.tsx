import { applyNodeChanges, ReactFlowProvider, type NodeChange } from '@xyflow/react';
import { useCallback, useLayoutEffect, useMemo, useState } from 'react';
import type { KindsPayload } from '../api/types.ts';
import { Canvas } from '../components/Canvas.tsx';
import { DirectionContext, HighlightContext, KindsContext, kindIndex, MarksContext, ReadOnlyContext, type PathHighlight } from '../editor-context.ts';
import { FragmentsContext } from '../fragments/fragments-context.ts';
import { effectiveStart } from '../graph/connection.ts';
import type { FlowModel, FlowNode } from '../graph/convert.ts';
import { createMarksStore } from '../graph/marks.ts';
import type { Resource } from '../hooks/useResource.ts';
import type { FragmentSummary } from '../api/types.ts';

const none = () => undefined;
const never = () => false;

/**
 * A workflow version drawn read-only on the editor's own canvas (the same nodes, ports and edge
 * labels), with a request's path lit: its nodes ringed (`kind-node--on-path`), its edges drawn
 * strong (`edge--on-path`), the rest faded.
 */
export function RecordCanvas({ model, kinds, path, direction, fragments, label }: { model: FlowModel; kinds: KindsPayload; path: PathHighlight; direction: 'LR' | 'TB'; fragments: Resource<FragmentSummary[]>; label: string }) {
  const index = useMemo(() => kindIndex(kinds.categories, kinds.kinds), [kinds]);
  // Only what React Flow measures and selects changes: the graph is the version's, never edited.
  const [nodes, setNodes] = useState(model.nodes);
  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    const kept = changes.filter((c) => c.type === 'dimensions' || c.type === 'select');
    if (kept.length > 0) setNodes((was) => applyNodeChanges(kept, was));
  }, []);
  const marks = useMemo(() => createMarksStore(), []);
  useLayoutEffect(() => {
    marks.update(model.nodes.map((n) => n.id), { problems: [], edges: model.edges, start: effectiveStart({ nodes: model.nodes, edges: model.edges, start: model.meta.start }) });
  }, [marks, model]);
  return (
    <KindsContext.Provider value={index}>
      <FragmentsContext.Provider value={fragments}>
        <ReadOnlyContext.Provider value={true}>
          <MarksContext.Provider value={marks}>
            <DirectionContext.Provider value={direction}>
              <HighlightContext.Provider value={path}>
                <ReactFlowProvider>
                  <Canvas label={label} nodes={nodes} edges={model.edges} readOnly onNodesChange={onNodesChange} onEdgesChange={none} onConnect={none} isValidConnection={never} onRefusedConnection={none} onDropKind={none} minimap={false} />
                </ReactFlowProvider>
              </HighlightContext.Provider>
            </DirectionContext.Provider>
          </MarksContext.Provider>
        </ReadOnlyContext.Provider>
      </FragmentsContext.Provider>
    </KindsContext.Provider>
  );
}

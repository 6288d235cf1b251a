import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeTypes,
  type OnConnect,
  type OnEdgesChange,
  type OnNodesChange,
  type XYPosition,
  useReactFlow,
} from '@xyflow/react';
import { useCallback, useContext, useMemo, useState, type DragEvent } from 'react';
import { HighlightContext, KindsContext, LiveContext, type PathHighlight } from '../editor-context.ts';
import type { LiveCounts } from '../hooks/useLiveCounts.ts';
import { formatRate } from './LiveControls.tsx';
import type { FlowEdge, FlowNode } from '../graph/convert.ts';
import { KindNode } from './KindNode.tsx';
import { FIT_VIEW_OPTIONS } from '../hooks/useCanvasView.ts';

/** Module level: a new object per render would make React Flow remount every node. */
const nodeTypes: NodeTypes = { kind: KindNode };
const SNAP_GRID: [number, number] = [10, 10];
const DEFAULT_EDGE_OPTIONS = { interactionWidth: 16 };
const PRO_OPTIONS = { hideAttribution: true };
const ARIA_LABELS = { 'minimap.ariaLabel': 'Mini map of the workflow', 'controls.ariaLabel': 'Zoom and fit' } as const;

/** The media type of a palette item being dragged onto the canvas. */
export const KIND_DRAG_TYPE = 'application/x-sluice-kind';

export interface CanvasProps {
  nodes: FlowNode[];
  edges: FlowEdge[];
  readOnly: boolean;
  label: string;
  onNodesChange: OnNodesChange<FlowNode>;
  onEdgesChange: OnEdgesChange<FlowEdge>;
  onConnect: OnConnect;
  isValidConnection: IsValidConnection<FlowEdge>;
  /** A connection dropped on a node that the wiring rule refuses: the reason, for the status line. */
  onRefusedConnection(source: string, port: string, target: string): void;
  onDropKind(kind: string, position: XYPosition): void;
}

/** The React Flow canvas: one node type, minimap, zoom controls, drop target for the palette. */
export function Canvas(props: CanvasProps) {
  const { screenToFlowPosition } = useReactFlow();
  const kinds = useContext(KindsContext);
  const { onDropKind, onRefusedConnection, readOnly } = props;
  // Fit an opened workflow once; an empty canvas keeps zoom 1, or the first node dropped would be blown up.
  const [fitOnOpen] = useState(() => props.nodes.length > 0);
  const live = useContext(LiveContext);
  const highlight = useContext(HighlightContext);
  const edges = useMemo(() => {
    const labelled = live ? withLiveLabels(props.edges, live) : props.edges;
    return highlight ? withPath(labelled, highlight) : labelled;
  }, [props.edges, live, highlight]);

  const onDragOver = useCallback(
    (e: DragEvent) => {
      if (readOnly || !e.dataTransfer.types.includes(KIND_DRAG_TYPE)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    [readOnly],
  );
  const onDrop = useCallback(
    (e: DragEvent) => {
      const kind = e.dataTransfer.getData(KIND_DRAG_TYPE);
      if (readOnly || !kind) return;
      e.preventDefault();
      // The drop point is where the node's head should be: centre it under the pointer.
      const at = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      onDropKind(kind, { x: at.x - 120, y: at.y - 24 });
    },
    [readOnly, screenToFlowPosition, onDropKind],
  );
  const { onConnect, isValidConnection } = props;
  // React Flow connects only near a handle; a wire dropped anywhere on a node's body goes to its input.
  const onConnectEnd = useCallback(
    (e: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      const target = nodeUnder(e) ?? state.toNode?.id;
      if (state.isValid || !state.fromNode || !target || !state.fromHandle?.id || state.fromNode.id === target) return;
      if (state.fromHandle.type !== 'source') return;
      const connection = { source: state.fromNode.id, sourceHandle: state.fromHandle.id, target, targetHandle: 'in' };
      if (isValidConnection(connection)) onConnect(connection);
      else onRefusedConnection(state.fromNode.id, state.fromHandle.id, target);
    },
    [onConnect, isValidConnection, onRefusedConnection],
  );

  return (
    <div className="canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<FlowNode, FlowEdge>
        aria-label={props.label}
        nodes={props.nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={props.onNodesChange}
        onEdgesChange={props.onEdgesChange}
        onConnect={props.onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={props.isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        edgesReconnectable={false}
        elementsSelectable
        // Deleting is one undoable step of the editor's own (nodes and their edges together).
        deleteKeyCode={null}
        connectionRadius={36}
        snapToGrid
        snapGrid={SNAP_GRID}
        defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
        fitView={fitOnOpen}
        fitViewOptions={FIT_VIEW_OPTIONS}
        minZoom={0.1}
        maxZoom={2}
        ariaLabelConfig={ARIA_LABELS}
        proOptions={PRO_OPTIONS}
      >
        <Background gap={20} size={1} />
        <MiniMap pannable zoomable nodeClassName={miniMapClass(kinds.get)} />
        <Controls showInteractive={false} fitViewOptions={FIT_VIEW_OPTIONS} />
      </ReactFlow>
    </div>
  );
}

/** The id of the node under the pointer where a drag ended, if any. */
function nodeUnder(e: MouseEvent | TouchEvent): string | undefined {
  const at = 'changedTouches' in e ? e.changedTouches[0] : e;
  if (!at) return undefined;
  for (const el of document.elementsFromPoint(at.clientX, at.clientY)) {
    const id = el.closest('.react-flow__node')?.getAttribute('data-id');
    if (id) return id;
  }
  return undefined;
}

/** A path drawn over the canvas: its edges stand out, the others fade. */
function withPath(edges: FlowEdge[], path: PathHighlight): FlowEdge[] {
  return edges.map((edge) => {
    const on = path.edges.has(`${edge.source}\u0000${edge.sourceHandle ?? ''}`);
    return { ...edge, className: `${edge.className ?? ''} ${on ? 'edge--on-path' : 'edge--off-path'}`.trim(), animated: on, ...(on ? { zIndex: 1 } : {}) };
  });
}

/** Live mode: each edge labelled with how often its port was taken; edges no request took are dimmed. */
function withLiveLabels(edges: FlowEdge[], live: LiveCounts): FlowEdge[] {
  return edges.map((edge) => {
    const port = live.nodes.get(edge.source)?.ports[edge.sourceHandle ?? ''];
    const count = port?.count ?? 0;
    return {
      ...edge,
      label: formatRate(port?.perSecond, count),
      className: count > 0 ? 'edge--live edge--taken' : 'edge--live edge--idle',
      animated: count > 0,
      ariaLabel: `Edge ${edge.source} ${edge.sourceHandle ?? ''} to ${edge.target}: ${count} requests`,
    };
  });
}

const miniMapClasses = new WeakMap<object, (node: FlowNode) => string>();
/** One class function per kinds index, so the minimap does not redraw for a new function each render. */
function miniMapClass(get: (kind: string) => { category: string } | undefined) {
  let fn = miniMapClasses.get(get);
  if (!fn) {
    fn = (node: FlowNode) => `minimap-node minimap-node--${get(node.data.kind)?.category.toLowerCase() ?? 'unknown'}`;
    miniMapClasses.set(get, fn);
  }
  return fn;
}

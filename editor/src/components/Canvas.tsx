import {
  Background,
  ControlButton,
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
  useNodesInitialized,
  useReactFlow,
} from '@xyflow/react';
import { useCallback, useContext, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { HighlightContext, KindsContext, LiveContext, type PathHighlight } from '../editor-context.ts';
import type { LiveCounts } from '../hooks/useLiveCounts.ts';
import { formatRate } from './LiveControls.tsx';
import type { FlowEdge, FlowNode } from '../graph/convert.ts';
import { ExitNode } from './ExitNode.tsx';
import { KindNode } from './KindNode.tsx';
import { readableFit } from '../hooks/useCanvasView.ts';
import { loadElk } from '../graph/layout.ts';

/** Module level: a new object per render would make React Flow remount every node. */
const nodeTypes: NodeTypes = { kind: KindNode, exit: ExitNode };
const SNAP_GRID: [number, number] = [10, 10];
const DEFAULT_EDGE_OPTIONS = { interactionWidth: 16 };
const PRO_OPTIONS = { hideAttribution: true };
/** Smaller than React Flow's 200x150, so it covers less of a canvas squeezed between the side panels. */
const MINIMAP_SIZE = { width: 160, height: 110 };
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
  /** Whether the minimap is shown (the toolbar's Minimap switch). */
  minimap: boolean;
}

/** The React Flow canvas: one node type, minimap, zoom controls, drop target for the palette. */
export function Canvas(props: CanvasProps) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const { screenToFlowPosition } = flow;
  const kinds = useContext(KindsContext);
  const { onDropKind, onRefusedConnection, readOnly } = props;
  // Fit an opened workflow once; an empty canvas keeps zoom 1, or the first node dropped would be blown up.
  const [fitOnOpen] = useState(() => props.nodes.length > 0);
  const live = useContext(LiveContext);
  const highlight = useContext(HighlightContext);
  // Fitted once the nodes are measured: at a readable zoom, the start in view (not React Flow's fitView, which shrinks to fit).
  const measured = useNodesInitialized();
  const fitted = useRef(false);
  useEffect(() => {
    if (!fitOnOpen || !measured || fitted.current) return;
    fitted.current = true;
    readableFit(flow, 0);
  }, [fitOnOpen, measured, flow]);
  // The layout engine is fetched while the user looks, so the first auto-layout does not wait for it.
  useEffect(() => {
    if (!readOnly) void loadElk().catch(() => undefined);
  }, [readOnly]);
  const edges = useMemo(() => {
    const labelled = live ? withLiveLabels(props.edges, live) : withPortLabels(props.edges);
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
        minZoom={0.1}
        maxZoom={2}
        ariaLabelConfig={ARIA_LABELS}
        proOptions={PRO_OPTIONS}
      >
        <Background gap={20} size={1} />
        {props.minimap && <MiniMap pannable zoomable nodeClassName={miniMapClass(kinds.get)} style={MINIMAP_SIZE} />}
        <Controls showInteractive={false} showFitView={false}>
          <ControlButton className="react-flow__controls-fitview" aria-label="Fit View" title="Fit View (F): readable zoom, the start in view" onClick={() => readableFit(flow)}>
            <svg viewBox="0 0 32 30" aria-hidden="true">
              <path d="M3.692 4.63c0-.53.4-.938.939-.938h5.215V0H4.708C2.13 0 0 2.054 0 4.63v5.216h3.692V4.631zM27.354 0h-5.2v3.692h5.17c.53 0 .984.4.984.939v5.215H32V4.631A4.624 4.624 0 0027.354 0zm.954 24.83c0 .532-.4.94-.939.94h-5.215v3.768h5.215c2.577 0 4.631-2.13 4.631-4.707v-5.139h-3.692v5.139zm-23.677.94c-.531 0-.939-.4-.939-.94v-5.138H0v5.139c0 2.577 2.13 4.707 4.708 4.707h5.138V25.77H4.631z" />
            </svg>
          </ControlButton>
        </Controls>
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

/** Each edge labelled with the port it leaves by ("valid", "missing", "true"): the canvas reads without following wires to their dots. */
function withPortLabels(edges: FlowEdge[]): FlowEdge[] {
  return edges.map((edge) => (edge.sourceHandle && edge.label === undefined ? { ...edge, label: edge.sourceHandle, className: `${edge.className ?? ''} edge--port`.trim() } : edge));
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

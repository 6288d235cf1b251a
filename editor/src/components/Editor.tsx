import { applyEdgeChanges, applyNodeChanges, useReactFlow, type Connection, type EdgeChange, type NodeChange, type XYPosition } from '@xyflow/react';
import { useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ApiError, describeError } from '../api/client.ts';
import { can, needs } from '../api/roles.ts';
import type { ProblemBody, ValidationProblem, VersionRef, WorkflowDiff, WorkflowView } from '../api/types.ts';
import { HighlightContext, KindsContext, LiveContext, MarksContext, ReadOnlyContext, useSessionContext, type PathHighlight } from '../editor-context.ts';
import { ContractPanel } from './ContractPanel.tsx';
import { PreviewPanel, type WorkflowSample } from './PreviewPanel.tsx';
import { useLiveCounts } from '../hooks/useLiveCounts.ts';
import { LiveControls, LiveSummary } from './LiveControls.tsx';
import { parseFragment, parseWorkflowText } from '../graph/clipboard.ts';
import { connectionProblem, effectiveStart } from '../graph/connection.ts';
import { toDocument, toFlow, toFragment, type DraftDocument, type FlowEdge, type FlowModel, type FlowNode } from '../graph/convert.ts';
import { layoutPositions } from '../graph/layout.ts';
import { createMarksStore, type DiffMark } from '../graph/marks.ts';
import { freshId } from '../graph/ids.ts';
import { addNode, applyLayout, connect, insertFragment, move, nodeIds, remove, select, selectedEdgeIds, selectedNodeIds } from '../graph/operations.ts';
import { useClipboard } from '../hooks/useClipboard.ts';
import { useEditorModel } from '../hooks/useEditorModel.ts';
import { listHref } from '../hooks/useHashRoute.ts';
import { useShortcuts } from '../hooks/useShortcuts.ts';
import { useValidation } from '../hooks/useValidation.ts';
import { Canvas } from './Canvas.tsx';
import { ConflictDialog } from './ConflictDialog.tsx';
import { Dialog } from './Dialog.tsx';
import { DiffDetails, DiffSummary } from './DiffSummary.tsx';
import { fieldDomId } from './FieldFrame.tsx';
import { HelpDialog } from './HelpDialog.tsx';
import { ImportDialog } from './ImportDialog.tsx';
import { Inspector } from './Inspector.tsx';
import { Palette } from './Palette.tsx';
import { ProblemsPanel } from './ProblemsPanel.tsx';
import { ToolGroup } from './Toolbar.tsx';
import { WorkflowProducts } from './WorkflowProducts.tsx';
import { VersionsPanel } from './VersionsPanel.tsx';
import { WorkflowSettings } from './WorkflowSettings.tsx';

/** A workflow document opened on the canvas; nodes without positions are laid out. */
export function modelOf(document: DraftDocument): FlowModel {
  const { model, unplaced } = toFlow(document);
  if (unplaced.length === 0) return model;
  return applyLayout(model, layoutPositions(model.nodes, model.edges));
}

/** Text that says whether two documents differ as documents (key order aside). */
const documentKey = (model: FlowModel) => JSON.stringify(toDocument(model));

interface DiffState {
  from: VersionRef;
  to: VersionRef;
  diff: WorkflowDiff;
  nodes: FlowNode[];
  edges: FlowEdge[];
  marks: Map<string, { mark: DiffMark; fields: string[] }>;
}

type Status = { text: string; tone: 'info' | 'good' | 'bad' } | undefined;

/** The model as the wiring rule reads it. */
const graphOf = (m: FlowModel) => ({ nodes: m.nodes, edges: m.edges, start: m.meta.start });
const refLabel = (ref: VersionRef) => (typeof ref === 'number' ? `version ${ref}` : ref);
const edgeKey = (e: { from: string; port: string; to: string }) => `${e.from}\u0000${e.port}\u0000${e.to}`;

export interface EditorProps {
  workflow: WorkflowView;
  document: DraftDocument;
  onWorkflowChanged(view: WorkflowView): void;
}

/** The editor of one workflow: palette, canvas, inspector or versions, problems, toolbar. */
export function Editor({ workflow, document: initialDocument, onWorkflowChanged }: EditorProps) {
  const { api, identity } = useSessionContext();
  const kinds = useContext(KindsContext);
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const id = workflow.id;
  const initial = useMemo(() => modelOf(initialDocument), [initialDocument]);
  const model = useEditorModel(initial);
  const { live, present } = model;

  const mayEdit = can(identity.role, 'edit');
  const mayPublish = can(identity.role, 'publish');
  const editReason = mayEdit ? undefined : needs('edit', identity.role);
  const publishReason = mayPublish ? undefined : needs('publish', identity.role);

  const [baseRevision, setBaseRevision] = useState(workflow.draft?.revision ?? 0);
  const [savedKey, setSavedKey] = useState(() => documentKey(initial));
  const dirty = useMemo(() => documentKey(present) !== savedKey, [present, savedKey]);
  const [status, setStatus] = useState<Status>();
  const [busy, setBusy] = useState(false);
  const [tab, setTab] = useState<'inspect' | 'versions' | 'preview' | 'contract'>('inspect');
  const [highlight, setHighlight] = useState<PathHighlight | undefined>();
  const [problemsOpen, setProblemsOpen] = useState(true);
  const [helpOpen, setHelpOpen] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const [publishOpen, setPublishOpen] = useState<{ diff: WorkflowDiff | undefined } | undefined>();
  const [conflict, setConflict] = useState<{ problem: ProblemBody; baseRevision: number } | undefined>();
  const [refused, setRefused] = useState<ValidationProblem[] | undefined>();
  const [diff, setDiff] = useState<DiffState | undefined>();
  const [focus, setFocus] = useState<{ scope: string; field: string } | undefined>();
  const [liveOn, setLiveOn] = useState(false);
  const [livePartner, setLivePartner] = useState<string | undefined>();
  const liveCounts = useLiveCounts(api, id, liveOn && workflow.active !== null, livePartner);

  const readOnly = !mayEdit || diff !== undefined;
  const readOnlyReason = diff ? 'Showing a comparison: close it to edit' : editReason;

  const validation = useValidation(api, id, present, mayEdit);
  // A refused publish lists what the server found; it stands until the next change is checked.
  const problems = refused ?? validation.problems;
  useEffect(() => setRefused(undefined), [present]);

  const start = useMemo(() => effectiveStart({ nodes: present.nodes, edges: present.edges, start: present.meta.start }), [present]);

  // Marks before paint, so a node never flashes without its problem badge.
  const marks = useMemo(() => createMarksStore(), []);
  useLayoutEffect(() => {
    if (diff) marks.update([...diff.nodes.map((n) => n.id)], { problems: [], edges: diff.edges, start: undefined, diff: diff.marks });
    else marks.update(present.nodes.map((n) => n.id), { problems, edges: present.edges, start });
  }, [marks, diff, present, problems, start]);

  const liveRef = useRef(live);
  liveRef.current = live;

  const say = useCallback((text: string, tone: 'info' | 'good' | 'bad' = 'info') => setStatus({ text, tone }), []);
  /** Fits the view once React Flow has taken the new positions (it updates its store after render). */
  const fitSoon = useCallback(() => void setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom: 1, duration: 200 }), 120), [flow]);

  // ---- canvas changes ------------------------------------------------------------------------

  const dragging = useRef(false);
  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const view = changes.filter((c) => c.type === 'select' || c.type === 'dimensions');
      const moves = changes.filter((c): c is Extract<NodeChange<FlowNode>, { type: 'position' }> => c.type === 'position');
      if (view.length > 0) model.transient((m) => ({ ...m, nodes: applyNodeChanges(view, m.nodes) }));
      if (moves.length === 0 || readOnly) return;
      if (moves.some((c) => c.dragging)) {
        dragging.current = true;
        model.transient((m) => ({ ...m, nodes: applyNodeChanges(moves, m.nodes) }));
        return;
      }
      // The end of a drag is one step; arrow-key nudges of the same nodes in a row are one step too.
      const moved = applyNodeChanges(moves, liveRef.current.nodes);
      const positions = new Map(moved.filter((n) => moves.some((c) => c.id === n.id)).map((n) => [n.id, n.position]));
      const group = dragging.current ? undefined : `nudge:${[...positions.keys()].join(',')}`;
      dragging.current = false;
      model.commit((m) => move(m, positions), group);
    },
    [model, readOnly],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => {
      const view = changes.filter((c) => c.type === 'select');
      if (view.length > 0) model.transient((m) => ({ ...m, edges: applyEdgeChanges(view, m.edges) }));
    },
    [model],
  );
  const isValidConnection = useCallback(
    (c: Connection | FlowEdge) => !readOnly && connectionProblem({ source: c.source, sourceHandle: c.sourceHandle ?? null, target: c.target }, graphOf(liveRef.current), kinds.isTerminal) === undefined,
    [readOnly, kinds],
  );
  const onConnect = useCallback(
    (c: Connection) => {
      if (readOnly || !c.sourceHandle) return;
      if (connectionProblem(c, graphOf(liveRef.current), kinds.isTerminal) !== undefined) return;
      model.commit((m) => connect(m, c.source, c.sourceHandle!, c.target));
      say(`Wired ${c.source}.${c.sourceHandle} to ${c.target}`);
    },
    [model, readOnly, kinds, say],
  );
  const onRefusedConnection = useCallback(
    (source: string, port: string, target: string) => {
      const reason = connectionProblem({ source, sourceHandle: port, target }, graphOf(liveRef.current), kinds.isTerminal);
      if (reason) say(`Not wired: ${reason}`, 'bad');
    },
    [kinds, say],
  );

  // ---- node actions --------------------------------------------------------------------------

  const placed = useRef(0);
  /** Where a node added without a pointer goes: the middle of the view, staggered so adds do not stack. */
  const viewCentre = useCallback((): XYPosition => {
    const pane = window.document.querySelector('.canvas')?.getBoundingClientRect();
    const centre = pane ? flow.screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 }) : { x: 0, y: 0 };
    const n = placed.current++ % 6;
    return { x: centre.x - 120 + n * 30, y: centre.y - 60 + n * 30 };
  }, [flow]);

  const addKind = useCallback(
    (kind: string, position?: XYPosition) => {
      if (readOnly) return;
      const at = position ?? viewCentre();
      const id = freshId(kind, nodeIds(liveRef.current));
      model.commit((m) => addNode(m, kind, at, id).model);
      setTab('inspect');
      say(`Added ${kinds.get(kind)?.title ?? kind} as ${id}`);
    },
    [model, readOnly, viewCentre, kinds, say],
  );

  const deleteSelection = useCallback(() => {
    if (readOnly) return;
    const nodes = selectedNodeIds(liveRef.current);
    const edges = selectedEdgeIds(liveRef.current);
    if (nodes.size + edges.size === 0) return;
    model.commit((m) => remove(m, nodes, edges));
    say(`Deleted ${nodes.size} node${nodes.size === 1 ? '' : 's'}${edges.size > 0 ? ` and ${edges.size} edge${edges.size === 1 ? '' : 's'}` : ''}`);
  }, [model, readOnly, say]);

  const duplicate = useCallback(() => {
    if (readOnly) return;
    const ids = selectedNodeIds(liveRef.current);
    if (ids.size === 0) return;
    model.commit((m) => insertFragment(m, toFragment(m, ids), { x: 40, y: 40 }).model);
    say(`Duplicated ${ids.size} node${ids.size === 1 ? '' : 's'}`);
  }, [model, readOnly, say]);

  const pasteText = useCallback(
    (text: string) => {
      if (readOnly) return false;
      const fragment = parseFragment(text);
      if (!fragment || fragment.nodes.length === 0) return false;
      // The pasted part lands around the middle of the view, keeping its own arrangement.
      const xs = fragment.nodes.map((n) => fragment.layout[n.id]?.x ?? 0);
      const ys = fragment.nodes.map((n) => fragment.layout[n.id]?.y ?? 0);
      const centre = viewCentre();
      const offset = { x: centre.x - Math.min(...xs), y: centre.y - Math.min(...ys) };
      model.commit((m) => insertFragment(m, fragment, offset).model);
      say(`Pasted ${fragment.nodes.length} node${fragment.nodes.length === 1 ? '' : 's'}`);
      return true;
    },
    [model, readOnly, viewCentre, say],
  );

  const clipboard = useClipboard({
    editable: !readOnly,
    copyText: () => {
      const ids = selectedNodeIds(liveRef.current);
      return ids.size === 0 ? undefined : JSON.stringify(toFragment(liveRef.current, ids), null, 2);
    },
    cut: deleteSelection,
    paste: pasteText,
  });

  const autoLayout = useCallback(() => {
    if (readOnly) return;
    const nodes = liveRef.current.nodes;
    const positions = layoutPositions(nodes, liveRef.current.edges);
    model.commit((m) => applyLayout(m, positions));
    // Fit to the new positions directly: React Flow's own bounds still hold the old ones until it re-renders.
    let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const n of nodes) {
      const p = positions.get(n.id)!;
      left = Math.min(left, p.x);
      top = Math.min(top, p.y);
      right = Math.max(right, p.x + (n.measured?.width ?? 220));
      bottom = Math.max(bottom, p.y + (n.measured?.height ?? 120));
    }
    if (nodes.length > 0) void flow.fitBounds({ x: left, y: top, width: right - left, height: bottom - top }, { padding: 0.1, duration: 200 });
    say('Laid out left to right');
  }, [model, readOnly, flow, say]);

  // ---- save, publish, lifecycle --------------------------------------------------------------

  const refreshWorkflow = useCallback(async () => {
    const view = await api.workflow(id);
    onWorkflowChanged(view);
    return view;
  }, [api, id, onWorkflowChanged]);

  const saveAt = useCallback(
    async (revision: number): Promise<boolean> => {
      const document = toDocument(present);
      setBusy(true);
      try {
        const result = await api.saveDraft(id, document, revision);
        setBaseRevision(result.draft.revision);
        setSavedKey(JSON.stringify(document));
        setConflict(undefined);
        say(`Saved draft revision ${result.draft.revision}`, 'good');
        void refreshWorkflow();
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) setConflict({ problem: error.problem, baseRevision: revision });
        else say(`Not saved. ${describeError(error)}`, 'bad');
        if (error instanceof ApiError && error.problem.problems) setRefused(error.problem.problems);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [api, id, present, say, refreshWorkflow],
  );
  const save = useCallback(() => (mayEdit && !diff ? saveAt(baseRevision) : Promise.resolve(false)), [mayEdit, diff, saveAt, baseRevision]);

  const reloadTheirs = useCallback(async () => {
    try {
      const view = await refreshWorkflow();
      if (!view.draft) return;
      const theirs = modelOf(view.draft.document as DraftDocument);
      model.commit(() => theirs);
      setBaseRevision(view.draft.revision);
      setSavedKey(documentKey(theirs));
      setConflict(undefined);
      say(`Loaded revision ${view.draft.revision} by ${view.draft.updatedBy}; Undo brings your changes back`);
    } catch (error) {
      say(describeError(error), 'bad');
    }
  }, [refreshWorkflow, model, say]);

  const askPublish = useCallback(async () => {
    if (!mayPublish || diff) return;
    if (dirty && !(await save())) return;
    let summary: WorkflowDiff | undefined;
    if (workflow.active !== null) summary = await api.diff(id, 'active', 'draft').catch(() => undefined);
    setPublishOpen({ diff: summary });
  }, [mayPublish, diff, dirty, save, workflow.active, api, id]);

  const publish = useCallback(async () => {
    setPublishOpen(undefined);
    setBusy(true);
    try {
      const result = await api.publish(id);
      say(result.unchanged ? `Nothing new: the draft is version ${result.version}, which serves already` : `Published version ${result.version}; it serves now`, 'good');
      await refreshWorkflow();
    } catch (error) {
      if (error instanceof ApiError && error.problem.problems) {
        setRefused(error.problem.problems);
        setProblemsOpen(true);
      }
      say(`Not published. ${describeError(error)}`, 'bad');
    } finally {
      setBusy(false);
    }
  }, [api, id, say, refreshWorkflow]);

  const lifecycle = useCallback(
    async (what: string, call: () => Promise<unknown>) => {
      setBusy(true);
      try {
        await call();
        say(what, 'good');
        await refreshWorkflow();
      } catch (error) {
        if (error instanceof ApiError && error.problem.problems) setRefused(error.problem.problems);
        say(describeError(error), 'bad');
      } finally {
        setBusy(false);
      }
    },
    [say, refreshWorkflow],
  );

  // ---- comparing versions --------------------------------------------------------------------

  const documentAt = useCallback(
    async (ref: VersionRef): Promise<DraftDocument> => {
      if (ref === 'draft') return ((await api.workflow(id)).draft?.document ?? { id }) as DraftDocument;
      const n = ref === 'active' ? workflow.active : ref;
      if (n === null) throw new Error('nothing is active');
      return (await api.version(id, n)).document as DraftDocument;
    },
    [api, id, workflow.active],
  );

  const compare = useCallback(
    async (from: VersionRef, to: VersionRef) => {
      setBusy(true);
      try {
        const [result, before, after] = await Promise.all([api.diff(id, from, to), documentAt(from), documentAt(to)]);
        const shown = modelOf(after);
        const ghosts = modelOf(before);
        const removed = new Set(result.nodes.removed.map((n) => n.id));
        const marksById = new Map<string, { mark: DiffMark; fields: string[] }>();
        for (const n of result.nodes.added) marksById.set(n.id, { mark: 'added', fields: [] });
        for (const c of result.nodes.changed) marksById.set(c.id, { mark: 'changed', fields: c.fields });
        for (const n of result.nodes.removed) marksById.set(n.id, { mark: 'removed', fields: [] });
        const added = new Set(result.edges.added.map(edgeKey));
        const gone = new Set(result.edges.removed.map(edgeKey));
        const keyOf = (e: FlowEdge) => edgeKey({ from: e.source, port: e.sourceHandle ?? '', to: e.target });
        const nodes = [...shown.nodes, ...ghosts.nodes.filter((n) => removed.has(n.id))].map((n) => ({ ...n, selected: false }));
        const edges = [
          ...shown.edges.map((e) => (added.has(keyOf(e)) ? { ...e, className: 'edge--added' } : e)),
          ...ghosts.edges.filter((e) => gone.has(keyOf(e))).map((e) => ({ ...e, id: `removed:${e.id}`, className: 'edge--removed' })),
        ];
        setDiff({ from, to, diff: result, nodes, edges, marks: marksById });
        setTab('inspect');
        fitSoon();
      } catch (error) {
        say(`Cannot compare. ${describeError(error)}`, 'bad');
      } finally {
        setBusy(false);
      }
    },
    [api, id, documentAt, fitSoon, say],
  );

  const closeDiff = useCallback(() => {
    setDiff(undefined);
    fitSoon();
  }, [fitSoon]);

  // ---- import, export ------------------------------------------------------------------------

  const importText = useCallback(
    (text: string): string | undefined => {
      const parsed = parseWorkflowText(text);
      if ('error' in parsed) return parsed.error;
      // The workflow keeps its own id: importing replaces what is drawn, not which workflow this is.
      const document = { ...parsed.document, id };
      model.commit(() => modelOf(document));
      setImportOpen(false);
      say(parsed.document.id === id ? 'Imported; Undo restores what was drawn before' : `Imported ${parsed.document.id} as ${id}; Undo restores what was drawn before`);
      fitSoon();
      return undefined;
    },
    [model, id, say, fitSoon],
  );

  const exportJson = useCallback(() => {
    const text = `${JSON.stringify(toDocument(present), null, 2)}\n`;
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const a = window.document.createElement('a');
    a.href = url;
    a.download = `${id}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    say(`Exported ${id}.json`);
  }, [present, id, say]);

  // ---- selection, focus ----------------------------------------------------------------------

  const pickProblem = useCallback(
    (p: ValidationProblem) => {
      if (diff) setDiff(undefined);
      setTab('inspect');
      const node = p.node === undefined ? undefined : liveRef.current.nodes.find((n) => n.id === p.node);
      model.transient((m) => select(m, node ? new Set([node.id]) : new Set()));
      if (node) {
        const w = node.measured?.width ?? 240;
        const h = node.measured?.height ?? 120;
        void flow.setCenter(node.position.x + w / 2, node.position.y + h / 2, { zoom: Math.max(flow.getZoom(), 0.8), duration: 200 });
      }
      setFocus({ scope: node ? node.id : 'workflow', field: p.field ?? '' });
    },
    [diff, model, flow],
  );
  useEffect(() => {
    if (!focus) return;
    const frame = requestAnimationFrame(() => {
      const target = window.document.getElementById(fieldDomId(focus.scope, focus.field)) ?? window.document.querySelector<HTMLElement>('.inspector h2');
      if (target instanceof HTMLElement) {
        if (!target.hasAttribute('tabindex') && target.tagName === 'H2') target.tabIndex = -1;
        target.focus();
        target.scrollIntoView({ block: 'nearest' });
      }
      setFocus(undefined);
    });
    return () => cancelAnimationFrame(frame);
  }, [focus]);

  const selected = useMemo(() => live.nodes.filter((n) => n.selected), [live.nodes]);

  // ---- keyboard, leaving -----------------------------------------------------------------------

  useShortcuts({
    undo: () => (readOnly ? undefined : model.undo()),
    redo: () => (readOnly ? undefined : model.redo()),
    save: () => void save(),
    delete: deleteSelection,
    duplicate,
    selectAll: () => model.transient((m) => select(m, new Set(m.nodes.map((n) => n.id)))),
    deselect: () => model.transient((m) => select(m, new Set())),
    layout: autoLayout,
    fit: () => void flow.fitView({ padding: 0.2, duration: 200 }),
    palette: () => window.document.getElementById('palette-search')?.focus(),
    help: () => setHelpOpen(true),
  });

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const state = workflow.active === null ? 'draft' : (() => {
    const v = workflow.versions.find((x) => x.version === workflow.active);
    return v?.retired ? 'retired' : v?.deprecated ? 'deprecated' : 'active';
  })();

  const nothingSelected = selected.length === 0;
  const noEdit = readOnlyReason;

  return (
    <ReadOnlyContext.Provider value={readOnly}>
      <MarksContext.Provider value={marks}>
        <div className="editor">
          <header className="editor__bar">
            <a
              className="back"
              href={listHref}
              onClick={(e) => {
                if (dirty && !window.confirm('Leave without saving? Your unsaved changes will be lost.')) e.preventDefault();
              }}
            >
              ← Workflows
            </a>
            <div className="editor__title">
              <h1>{present.meta.name || id}</h1>
              <span className="muted">
                {id} · {(present.meta.route?.methods ?? []).join(', ')} {present.meta.route?.path ?? ''}
              </span>
              <span className={`chip chip--${state}`}>{workflow.active === null ? 'not published' : `v${workflow.active} ${state}`}</span>
              <span className={dirty ? 'chip chip--dirty' : 'chip chip--saved'} role="status" aria-label={dirty ? 'Unsaved changes' : `Saved, revision ${baseRevision}`}>
                {dirty ? 'unsaved changes' : `saved · rev ${baseRevision}`}
              </span>
              <WorkflowProducts id={id} />
            </div>
            <div className="editor__tools">
              <ToolGroup
                label="History"
                buttons={[
                  { label: 'Undo', icon: '↶', onClick: model.undo, disabled: readOnly || !model.canUndo, reason: noEdit ?? 'Nothing to undo', keys: 'Ctrl+Z' },
                  { label: 'Redo', icon: '↷', onClick: model.redo, disabled: readOnly || !model.canRedo, reason: noEdit ?? 'Nothing to redo', keys: 'Ctrl+Shift+Z' },
                ]}
              />
              <ToolGroup
                label="Arrange"
                buttons={[
                  { label: 'Auto-layout', onClick: autoLayout, disabled: readOnly, reason: noEdit, keys: 'L' },
                  { label: 'Copy', onClick: () => void clipboard.copy().then((ok) => say(ok ? 'Copied the selected nodes as JSON' : 'Select nodes to copy')), disabled: nothingSelected, reason: 'Select nodes to copy', keys: 'Ctrl+C' },
                  { label: 'Paste', onClick: () => void clipboard.paste().then((ok) => !ok && say('The clipboard holds no Sluice nodes', 'bad')), disabled: readOnly, reason: noEdit, keys: 'Ctrl+V' },
                  { label: 'Duplicate', onClick: duplicate, disabled: readOnly || nothingSelected, reason: noEdit ?? 'Select nodes to duplicate', keys: 'Ctrl+D' },
                  { label: 'Delete', onClick: deleteSelection, disabled: readOnly || (nothingSelected && !live.edges.some((e) => e.selected)), reason: noEdit ?? 'Select nodes or edges to delete', keys: 'Delete' },
                ]}
              />
              <ToolGroup
                label="File"
                buttons={[
                  { label: 'Import', onClick: () => setImportOpen(true), disabled: readOnly, reason: noEdit },
                  { label: 'Export', onClick: exportJson },
                ]}
              />
              <ToolGroup
                label="Lifecycle"
                buttons={[
                  { label: 'Save draft', onClick: () => void save(), disabled: readOnly || busy, reason: noEdit ?? 'Busy', keys: 'Ctrl+S' },
                  { label: 'Publish…', primary: true, onClick: () => void askPublish(), disabled: !mayPublish || diff !== undefined || busy, reason: publishReason ?? readOnlyReason ?? 'Busy' },
                ]}
              />
              <LiveControls
                on={liveOn}
                unavailable={workflow.active === null ? 'Live traffic needs a published version' : undefined}
                partner={livePartner}
                counts={liveCounts.counts}
                onToggle={() => setLiveOn((on) => !on)}
                onPartner={setLivePartner}
              />
              <button type="button" className="icon-button help-button" aria-label="Keyboard shortcuts" aria-keyshortcuts="?" title="Keyboard shortcuts (?)" onClick={() => setHelpOpen(true)}>
                ?
              </button>
            </div>
          </header>

          {!mayEdit && (
            <div className="banner banner--readonly" role="note">
              <strong>Read-only.</strong> Signed in as {identity.name} ({identity.role}): you can read this workflow, its versions and diffs, but not change it.
            </div>
          )}
          {liveOn && !diff && <LiveSummary counts={liveCounts.counts} error={liveCounts.error} />}
          {diff && <DiffSummary from={refLabel(diff.from)} to={refLabel(diff.to)} diff={diff.diff} onClose={closeDiff} />}

          <div className="editor__main">
            <Palette readOnly={readOnly} readOnlyReason={readOnlyReason} onAdd={addKind} />
            <LiveContext.Provider value={liveOn && !diff ? liveCounts.counts : undefined}>
             <HighlightContext.Provider value={diff ? undefined : highlight}>
              <Canvas
                label={diff ? `Comparison of ${refLabel(diff.from)} and ${refLabel(diff.to)}` : `Workflow canvas of ${id}`}
                nodes={diff ? diff.nodes : live.nodes}
                edges={diff ? diff.edges : live.edges}
                readOnly={readOnly}
                onNodesChange={onNodesChange}
                onEdgesChange={onEdgesChange}
                onConnect={onConnect}
                isValidConnection={isValidConnection}
                onRefusedConnection={onRefusedConnection}
                onDropKind={addKind}
              />
             </HighlightContext.Provider>
            </LiveContext.Provider>
            <aside className="sidebar">
              <div className="tabs" role="tablist" aria-label="Side panel">
                <button type="button" role="tab" aria-selected={tab === 'inspect'} aria-controls="panel-inspect" id="tab-inspect" onClick={() => setTab('inspect')}>
                  Inspector
                </button>
                <button type="button" role="tab" aria-selected={tab === 'versions'} aria-controls="panel-versions" id="tab-versions" onClick={() => setTab('versions')}>
                  Versions ({workflow.versions.length})
                </button>
                <button type="button" role="tab" aria-selected={tab === 'preview'} aria-controls="panel-preview" id="tab-preview" onClick={() => setTab('preview')}>
                  Preview
                </button>
                <button type="button" role="tab" aria-selected={tab === 'contract'} aria-controls="panel-contract" id="tab-contract" onClick={() => setTab('contract')}>
                  Contract
                </button>
              </div>
              <div className="sidebar__panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
                {/* kept mounted: the request being built survives a look at another tab */}
                <div hidden={tab !== 'preview'}>
                  <PreviewPanel
                    api={api}
                    workflowId={id}
                    document={() => toDocument(liveRef.current) as unknown as Record<string, unknown>}
                    route={{ methods: present.meta.route?.methods ?? ['GET'], path: present.meta.route?.path ?? '/' }}
                    tests={present.meta.tests ?? []}
                    samples={(present.meta as { samples?: WorkflowSample[] }).samples ?? []}
                    readOnly={readOnly}
                    canMintTokens={mayEdit}
                    onHighlight={setHighlight}
                    onSaveTest={(test) => {
                      model.commit((m) => ({ ...m, meta: { ...m.meta, tests: [...(m.meta.tests ?? []), test as NonNullable<typeof m.meta.tests>[number]] } }));
                      say(`Saved the test "${test.name}": it runs before every publish once the draft is saved`, 'good');
                    }}
                    onSaveSample={(sample) => {
                      model.commit((m) => ({ ...m, meta: { ...m.meta, samples: [...((m.meta as { samples?: WorkflowSample[] }).samples ?? []), sample] } as typeof m.meta }));
                      say(`Saved the sample "${sample.name}" with the workflow (save the draft to keep it)`, 'good');
                    }}
                  />
                </div>
                {tab === 'preview' ? null : tab === 'contract' ? (
                  <ContractPanel api={api} workflowId={id} hasActive={workflow.active !== null} draftRevision={baseRevision} onHighlight={setHighlight} />
                ) : tab === 'versions' ? (
                  <VersionsPanel
                    workflow={workflow}
                    canPublish={mayPublish}
                    publishReason={publishReason}
                    busy={busy}
                    onCompare={(from, to) => void compare(from, to)}
                    onRollback={(v) => void lifecycle(`Version ${v} serves again`, () => api.rollback(id, v))}
                    onDeprecate={(v, sunset) => void lifecycle(`Version ${v} is deprecated`, () => api.deprecate(id, v, sunset))}
                    onRetire={(v) => void lifecycle(`Version ${v} is retired`, () => api.retire(id, v))}
                  />
                ) : diff ? (
                  <DiffDetails diff={diff.diff} />
                ) : selected.length === 1 ? (
                  <Inspector
                    key={selected[0]!.id}
                    node={selected[0]!}
                    model={live}
                    start={start}
                    problems={problems}
                    readOnly={readOnly}
                    readOnlyReason={readOnlyReason}
                    commit={model.commit}
                    seal={model.seal}
                    onDuplicate={duplicate}
                    onDelete={deleteSelection}
                  />
                ) : selected.length > 1 ? (
                  <section className="inspector" aria-label="Selection">
                    <h2>{selected.length} nodes selected</h2>
                    <p className="muted">{selected.map((n) => n.id).join(', ')}</p>
                    <div className="inspector__actions">
                      <button type="button" onClick={() => void clipboard.copy().then(() => say('Copied the selected nodes as JSON'))}>
                        Copy
                      </button>
                      <button type="button" onClick={duplicate} disabled={readOnly} title={noEdit}>
                        Duplicate
                      </button>
                      <button type="button" className="danger" onClick={deleteSelection} disabled={readOnly} title={noEdit}>
                        Delete {selected.length} nodes
                      </button>
                    </div>
                  </section>
                ) : (
                  <WorkflowSettings model={live} start={start} problems={problems} readOnly={readOnly} readOnlyReason={readOnlyReason} commit={model.commit} seal={model.seal} />
                )}
              </div>
            </aside>
          </div>

          <ProblemsPanel problems={problems} checking={validation.checking && refused === undefined} source={validation.source} error={validation.error} open={problemsOpen} onToggle={() => setProblemsOpen((o) => !o)} onPick={pickProblem} />
          <div className={`statusline statusline--${status?.tone ?? 'info'}`} role="status" aria-live="polite">
            {status?.text ?? ''}
          </div>
        </div>

        <HelpDialog open={helpOpen} onClose={() => setHelpOpen(false)} />
        <ImportDialog open={importOpen} onClose={() => setImportOpen(false)} onImport={importText} />
        <ConflictDialog conflict={conflict} onClose={() => setConflict(undefined)} onReload={() => void reloadTheirs()} onOverwrite={() => conflict && void saveAt(conflict.problem.currentRevision ?? baseRevision)} />
        <Dialog open={publishOpen !== undefined} title={`Publish ${id}`} onClose={() => setPublishOpen(undefined)}>
          <p>
            The saved draft (revision {baseRevision}) becomes version {Math.max(0, ...workflow.versions.map((v) => v.version)) + 1} and serves{' '}
            {present.meta.route?.methods?.join(', ')} {present.meta.route?.path} at once. Its tests run first; a draft with problems is refused and the active version keeps serving.
          </p>
          {publishOpen?.diff && (publishOpen.diff.same ? <p className="muted">The draft is the same as the active version (layout aside).</p> : <DiffDetails diff={publishOpen.diff} />)}
          <div className="dialog__actions">
            <button type="button" onClick={() => setPublishOpen(undefined)}>
              Cancel
            </button>
            <button type="button" className="primary" onClick={() => void publish()}>
              Publish now
            </button>
          </div>
        </Dialog>
      </MarksContext.Provider>
    </ReadOnlyContext.Provider>
  );
}

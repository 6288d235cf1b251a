import { useReactFlow } from '@xyflow/react';
import { useContext, useEffect, useMemo, useRef } from 'react';
import { can, needs } from '../api/roles.ts';
import type { WorkflowView } from '../api/types.ts';
import { DirectionContext, HighlightContext, KindsContext, LiveContext, MarksContext, ReadOnlyContext, useSessionContext } from '../editor-context.ts';
import { effectiveStart } from '../graph/connection.ts';
import type { DraftDocument, FlowEdge, FlowNode } from '../graph/convert.ts';
import { directionOf, modelOf } from '../graph/layout.ts';
import { select } from '../graph/operations.ts';
import { pinnedToOwners } from '../graph/subflow.ts';
import { useBusy } from '../hooks/useBusy.ts';
import { useCanvasChanges } from '../hooks/useCanvasChanges.ts';
import { useCanvasMarks } from '../hooks/useCanvasMarks.ts';
import { useCanvasView } from '../hooks/useCanvasView.ts';
import { useDraftLifecycle } from '../hooks/useDraftLifecycle.ts';
import { useEditorModel } from '../hooks/useEditorModel.ts';
import { useEditorPanels } from '../hooks/useEditorPanels.ts';
import { useImportExport } from '../hooks/useImportExport.ts';
import { useLatest } from '../hooks/useLatest.ts';
import { useLiveMode } from '../hooks/useLiveMode.ts';
import { useNodeActions } from '../hooks/useNodeActions.ts';
import { useProblemFocus } from '../hooks/useProblemFocus.ts';
import { useShortcuts } from '../hooks/useShortcuts.ts';
import { useStatusLine } from '../hooks/useStatusLine.ts';
import { useValidation } from '../hooks/useValidation.ts';
import { refLabel, useVersionCompare } from '../hooks/useVersionCompare.ts';
import { ApprovalBanner } from './ApprovalBanner.tsx';
import { Canvas } from './Canvas.tsx';
import { ConflictDialog } from './ConflictDialog.tsx';
import { DiffSummary } from './DiffSummary.tsx';
import { EditorSidebar } from './EditorSidebar.tsx';
import { EditorToolbar } from './EditorToolbar.tsx';
import { HelpDialog } from './HelpDialog.tsx';
import { ImportDialog } from './ImportDialog.tsx';
import { LiveSummary } from './LiveControls.tsx';
import { Palette } from './Palette.tsx';
import { ProblemsPanel } from './ProblemsPanel.tsx';
import { PublishDialog } from './PublishDialog.tsx';
import { VersionBanner } from './VersionsPanel.tsx';

export interface EditorProps {
  workflow: WorkflowView;
  document: DraftDocument;
  /** A published version shown read-only instead of the draft. */
  version?: number | undefined;
  onWorkflowChanged(view: WorkflowView): void;
}

/**
 * The editor of one workflow: toolbar, palette, canvas, side panel, problems and status line.
 * It lays them out and joins them; what they do lives in the hooks it calls.
 */
export function Editor({ workflow, document: initialDocument, version: viewing, onWorkflowChanged }: EditorProps) {
  const { api, identity } = useSessionContext();
  const kinds = useContext(KindsContext);
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const id = workflow.id;
  const initial = useMemo(() => modelOf(initialDocument), [initialDocument]);
  const model = useEditorModel(initial);
  const { live, present } = model;
  const latest = useLatest(live);

  // An archived workflow is read-only for everyone until restored (EditorScreen's banner says so and offers Restore).
  const archived = workflow.archived ? 'Archived: restore it to edit or publish' : undefined;
  const mayEdit = can(identity.role, 'edit') && !archived;
  const mayPublish = can(identity.role, 'publish') && !archived;
  const editReason = archived ?? (mayEdit ? undefined : needs('edit', identity.role));
  const publishReason = archived ?? (mayPublish ? undefined : needs('publish', identity.role));

  const { status, say } = useStatusLine();
  const { busy, whileBusy } = useBusy();
  const panels = useEditorPanels(id, () => directionOf(id, initialDocument));
  const view = useCanvasView(flow);
  const liveMode = useLiveMode(api, id, workflow.active !== null);
  const versions = useVersionCompare({ api, workflowId: id, active: workflow.active, whileBusy, say, fitSoon: view.fitSoon, onShown: panels.showInspector });
  const { comparison } = versions;
  const comparing = comparison !== undefined;
  // Live counts are of the served version: while live, the canvas shows that version's graph, read-only.
  const served = liveMode.on && !comparison ? liveMode.graph : undefined;
  const readOnly = !mayEdit || comparing || served !== undefined || viewing !== undefined;
  const readOnlyReason = comparing ? 'Showing a comparison: close it to edit' : served ? `Showing live traffic of version ${served.version}: turn Live off to edit the draft` : viewing !== undefined ? `Showing version ${viewing} read-only: go back to the draft to edit` : editReason;

  const validation = useValidation(api, id, present, mayEdit && viewing === undefined);
  const draft = useDraftLifecycle({ api, workflow, initial, model, mayEdit, mayPublish, comparing: comparing || viewing !== undefined, whileBusy, say, onWorkflowChanged, onPublishRefused: panels.openProblems, validation });
  // The server checks the workflow with its fragments inlined: a problem of an inlined node is pinned to its subflow node.
  const problems = useMemo(() => pinnedToOwners(draft.problems), [draft.problems]);
  const start = useMemo(() => effectiveStart({ nodes: present.nodes, edges: present.edges, start: present.meta.start }), [present]);
  const marks = useCanvasMarks(present, problems, start, comparison);

  const canvas = useCanvasChanges({ model, latest, readOnly, kinds, say });
  const actions = useNodeActions({ model, latest, readOnly, kinds, view, say, onAdded: panels.showInspector, direction: panels.direction });
  const file = useImportExport({ model, workflowId: id, say, fitSoon: view.fitSoon });
  const pickProblem = useProblemFocus({ model, latest, view, comparing, dismissComparison: versions.dismiss, showInspector: panels.showInspector });
  // While live, the side panel shows the served version's settings and nodes (read-only), as the canvas does.
  const shownModel = served ?? live;
  const selected = useMemo(() => shownModel.nodes.filter((n) => n.selected), [shownModel.nodes]);
  // A drawn path is of the workflow as it was run: an edit clears it (another tab does too, in useEditorPanels).
  const { setHighlight } = panels;
  useEffect(() => setHighlight(undefined), [present, setHighlight]);
  const { fitSoon } = view;
  const servedVersion = served?.version;
  const fittedTo = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (fittedTo.current === servedVersion) return;
    fittedTo.current = servedVersion;
    fitSoon();
  }, [servedVersion, fitSoon]);

  useShortcuts({
    undo: () => (readOnly ? undefined : model.undo()),
    redo: () => (readOnly ? undefined : model.redo()),
    save: () => void draft.save(),
    delete: actions.deleteSelection,
    duplicate: actions.duplicate,
    selectAll: () => model.transient((m) => select(m, new Set(m.nodes.map((n) => n.id)))),
    deselect: () => model.transient((m) => select(m, new Set())),
    layout: actions.autoLayout,
    fit: view.fit,
    palette: () => {
      const focus = () => window.document.getElementById('palette-search')?.focus();
      if (panels.paletteOpen) return focus();
      // a folded palette opens first
      panels.togglePalette();
      setTimeout(focus, 0);
    },
    help: panels.openHelp,
  });

  return (
    <ReadOnlyContext.Provider value={readOnly}>
      <MarksContext.Provider value={marks}>
        <div className="editor">
          <EditorToolbar
            workflow={workflow}
            meta={present.meta}
            draft={draft}
            history={model}
            actions={actions}
            file={file}
            live={liveMode}
            readOnly={readOnly}
            readOnlyReason={readOnlyReason}
            mayPublish={mayPublish}
            publishReason={publishReason}
            comparing={comparing || viewing !== undefined}
            busy={busy}
            nothingSelected={selected.length === 0}
            edgeSelected={live.edges.some((e) => e.selected)}
            say={say}
            onHelp={panels.openHelp}
            view={{
              direction: panels.direction,
              onDirection: (next) => {
                panels.setDirection(next);
                actions.autoLayout(next);
              },
              minimapShown: panels.minimapShown,
              onToggleMinimap: panels.toggleMinimap,
            }}
          />

          {!mayEdit && !archived && (
            <div className="banner banner--readonly" role="note">
              <strong>Read-only.</strong> Signed in as {identity.name} ({identity.role}): you can read this workflow, its versions and diffs, but not change it.
            </div>
          )}
          <ApprovalBanner workflow={workflow} busy={busy} whileBusy={whileBusy} say={say} onWorkflowChanged={onWorkflowChanged} />
          {viewing !== undefined && <VersionBanner workflow={workflow} version={viewing} />}
          {liveMode.on && !comparison && <LiveSummary counts={liveMode.counts} error={liveMode.error} shown={served?.version} />}
          {comparison && <DiffSummary from={refLabel(comparison.from)} to={refLabel(comparison.to)} diff={comparison.diff} onClose={versions.close} />}

          <div className="editor__main">
            <Palette readOnly={readOnly} readOnlyReason={readOnlyReason} onAdd={actions.addKind} open={panels.paletteOpen} onToggle={panels.togglePalette} />
            <DirectionContext.Provider value={panels.direction}>
            <LiveContext.Provider value={served ? liveMode.counts : undefined}>
              <HighlightContext.Provider value={comparison ? undefined : panels.highlight}>
                <Canvas
                  label={comparison ? `Comparison of ${refLabel(comparison.from)} and ${refLabel(comparison.to)}` : served ? `Live traffic of version ${served.version} of ${id}` : `Workflow canvas of ${id}`}
                  nodes={comparison ? comparison.nodes : served ? served.nodes : live.nodes}
                  edges={comparison ? comparison.edges : served ? served.edges : live.edges}
                  readOnly={readOnly}
                  onNodesChange={comparison ? versions.onNodesChange : served ? liveMode.onNodesChange : canvas.onNodesChange}
                  onEdgesChange={canvas.onEdgesChange}
                  onConnect={canvas.onConnect}
                  isValidConnection={canvas.isValidConnection}
                  onRefusedConnection={canvas.onRefusedConnection}
                  onDropKind={actions.addKind}
                  minimap={panels.minimapShown}
                />
              </HighlightContext.Provider>
            </LiveContext.Provider>
            </DirectionContext.Provider>
            <EditorSidebar
              api={api}
              workflow={workflow}
              tab={panels.tab}
              onTab={panels.setTab}
              live={shownModel}
              present={present}
              latest={latest}
              selected={selected}
              start={start}
              problems={problems}
              readOnly={readOnly}
              readOnlyReason={readOnlyReason}
              mayEdit={mayEdit}
              mayPublish={mayPublish}
              publishReason={publishReason}
              busy={busy}
              draft={draft}
              versions={versions}
              edit={model}
              actions={actions}
              say={say}
              onHighlight={panels.setHighlight}
              open={panels.sidebarOpen}
              onToggle={panels.toggleSidebar}
            />
          </div>

          <ProblemsPanel problems={problems} checking={validation.checking && draft.refused === undefined} source={validation.source} error={validation.error} open={panels.problemsOpen} onToggle={panels.toggleProblems} onPick={pickProblem} />
          <div className={`statusline statusline--${status?.tone ?? 'info'}`} role="status" aria-live="polite">
            {status?.text ?? ''}
          </div>
        </div>

        <HelpDialog open={panels.helpOpen} onClose={panels.closeHelp} />
        <ImportDialog open={file.importOpen} onClose={file.closeImport} onImport={file.importText} />
        <ConflictDialog conflict={draft.conflict} onClose={draft.closeConflict} onReload={() => void draft.reloadTheirs()} onOverwrite={draft.overwrite} />
        <PublishDialog workflow={workflow} meta={present.meta} revision={draft.baseRevision} offer={draft.publishOffer} problems={problems} checking={validation.checking && draft.refused === undefined} onCancel={draft.cancelPublish} onPublish={(note: string | undefined) => void draft.publish(note)} />
      </MarksContext.Provider>
    </ReadOnlyContext.Provider>
  );
}

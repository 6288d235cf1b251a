import { useReactFlow } from '@xyflow/react';
import { useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, describeError } from '../api/client.ts';
import { can, needs } from '../api/roles.ts';
import type { FragmentView, ValidationProblem } from '../api/types.ts';
import { Canvas } from '../components/Canvas.tsx';
import { Inspector } from '../components/Inspector.tsx';
import { Palette } from '../components/Palette.tsx';
import { ProblemsPanel } from '../components/ProblemsPanel.tsx';
import { KindsContext, MarksContext, ReadOnlyContext, useSessionContext } from '../editor-context.ts';
import { effectiveStart } from '../graph/connection.ts';
import type { DraftDocument, FlowEdge, FlowModel, FlowNode } from '../graph/convert.ts';
import { select } from '../graph/operations.ts';
import { useBusy } from '../hooks/useBusy.ts';
import { useCanvasChanges } from '../hooks/useCanvasChanges.ts';
import { useCanvasMarks } from '../hooks/useCanvasMarks.ts';
import { useCanvasView } from '../hooks/useCanvasView.ts';
import { useEditorModel, type EditorModel } from '../hooks/useEditorModel.ts';
import { fragmentsHref, setLeaveGuard } from '../hooks/useHashRoute.ts';
import { useLatest } from '../hooks/useLatest.ts';
import { useNodeActions } from '../hooks/useNodeActions.ts';
import { useProblemFocus } from '../hooks/useProblemFocus.ts';
import { useShortcuts } from '../hooks/useShortcuts.ts';
import { useStatusLine } from '../hooks/useStatusLine.ts';
import { useValidation } from '../hooks/useValidation.ts';
import { FragmentPublishDialog, type PublishedAnswer, type PublishOutcome } from './FragmentPublishDialog.tsx';
import { FragmentSettings } from './FragmentSettings.tsx';
import { fragmentToModel, isExitNode, modelToFragment, pinnedToExits, withExitNodes } from './fragment-model.ts';

export interface FragmentEditorProps {
  view: FragmentView;
  document: DraftDocument;
  /** The fragment changed on the server (saved, published): load it again for its versions and users. */
  onChanged(): void;
}

const documentKey = (model: FlowModel) => JSON.stringify(modelToFragment(model));

/**
 * The editor of one fragment, on the workflow editor's canvas, palette, inspector and problems
 * panel: its nodes as in a workflow, its exits as exit nodes edges can go to. Save, validate
 * (the server's check, pinned to the nodes) and publish (which checks every workflow that follows
 * the fragment first), with the workflows that use it beside.
 */
export function FragmentEditor({ view, document, onChanged }: FragmentEditorProps) {
  const { api, identity } = useSessionContext();
  const kinds = useContext(KindsContext);
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const id = view.id;
  const initial = useMemo(() => fragmentToModel(document).model, [document]);
  const base = useEditorModel(initial);
  // Every change keeps one exit node per declared exit (a deleted one comes back, a copied one goes).
  const model: EditorModel = useMemo(() => ({ ...base, commit: (change, group) => base.commit((m) => withExitNodes(change(m)), group) }), [base]);
  const { live, present } = model;
  const latest = useLatest(live);

  const mayEdit = can(identity.role, 'edit');
  const mayPublish = can(identity.role, 'publish');
  const readOnly = !mayEdit;
  const readOnlyReason = mayEdit ? undefined : needs('edit', identity.role);
  const publishReason = mayPublish ? undefined : needs('publish', identity.role);

  const { status, say } = useStatusLine();
  const { busy, whileBusy } = useBusy();
  const canvasView = useCanvasView(flow);
  const [problemsOpen, setProblemsOpen] = useState(true);
  const [paletteOpen, setPaletteOpen] = useState(true);
  const validation = useValidation(api, id, present, mayEdit, 'fragment');
  const [refused, setRefused] = useState<ValidationProblem[] | undefined>();
  const exits = present.meta.exits;
  const problems = useMemo(() => pinnedToExits(refused ?? validation.problems, exits ?? []), [refused, validation.problems, exits]);
  // The start of the fragment's own nodes: an exit node nothing leads to yet is not a start.
  const start = useMemo(() => effectiveStart({ nodes: present.nodes.filter((n) => !isExitNode(n)), edges: present.edges, start: present.meta.start }), [present]);
  const marks = useCanvasMarks(present, problems, start, undefined);
  const canvas = useCanvasChanges({ model, latest, readOnly, kinds, say });
  const actions = useNodeActions({ model, latest, readOnly, kinds, view: canvasView, say, onAdded: () => undefined, direction: 'LR' });
  const pickProblem = useProblemFocus({ model, latest, view: canvasView, comparing: false, dismissComparison: () => undefined, showInspector: () => undefined });

  const [saved, setSaved] = useState(() => ({ key: documentKey(initial), revision: view.draft?.revision ?? 0 }));
  const dirty = documentKey(present) !== saved.key;
  useEffect(() => setRefused(undefined), [present]);

  const save = useCallback(async (): Promise<boolean> => {
    if (readOnly) return false;
    const document = modelToFragment(latest.current);
    try {
      const answer = await whileBusy(() => api.saveFragmentDraft(id, document, saved.revision));
      setSaved({ key: JSON.stringify(document), revision: answer.draft.revision });
      say(answer.problems.length === 0 ? `Saved revision ${answer.draft.revision}` : `Saved revision ${answer.draft.revision}, with ${answer.problems.length} problem${answer.problems.length === 1 ? '' : 's'}`, answer.problems.length === 0 ? 'good' : 'info');
      return true;
    } catch (error) {
      say(error instanceof ApiError && error.status === 409 ? 'Not saved: someone saved this fragment since you opened it. Reload the page to see their draft.' : `Not saved: ${describeError(error)}`, 'bad');
      return false;
    }
  }, [readOnly, latest, whileBusy, api, id, saved.revision, say]);

  const validate = useCallback(async () => {
    try {
      const answer = await whileBusy(() => api.validateFragment(id, modelToFragment(latest.current)));
      setRefused(answer.problems);
      setProblemsOpen(true);
      say(answer.ok ? 'Valid: nothing stops a publish of the fragment itself' : `${answer.problems.length} problem${answer.problems.length === 1 ? '' : 's'}`, answer.ok ? 'good' : 'bad');
    } catch (error) {
      say(`The check could not run: ${describeError(error)}`, 'bad');
    }
  }, [whileBusy, api, id, latest, say]);

  /** The dialog's action: asking to publish, or a rollback under way; its outcome once answered. */
  const [action, setAction] = useState<'Publish' | 'Roll back' | undefined>();
  const [outcome, setOutcome] = useState<PublishOutcome | undefined>();
  /** A publish or rollback: its answer (the workflows checked) or its refusal (naming the workflow that fails) shown in the dialog. */
  const activate = useCallback(
    async (work: () => Promise<PublishedAnswer>, what: string) => {
      try {
        const answer = await whileBusy(work);
        setOutcome({ ok: true, answer });
        say(answer.unchanged ? `Nothing changed: version ${answer.version} is active already` : `${what}: version ${answer.version} is active`, 'good');
        onChanged();
      } catch (error) {
        const listed = error instanceof ApiError ? (error.problem.problems ?? []) : [];
        setOutcome({ ok: false, message: describeError(error), problems: listed });
        say(`Not done: ${describeError(error)}`, 'bad');
      }
    },
    [whileBusy, say, onChanged],
  );
  const publish = useCallback(
    async (note: string | undefined) => {
      if (dirty && !(await save())) return;
      await activate(() => api.publishFragment(id, note), 'Published');
    },
    [dirty, save, activate, api, id],
  );
  const rollback = useCallback(
    (version: number) => {
      setAction('Roll back');
      void activate(() => api.rollbackFragment(id, version), 'Rolled back');
    },
    [activate, api, id],
  );

  useEffect(() => {
    if (!dirty) return;
    return setLeaveGuard(() => ({ title: 'Unsaved changes', text: `The draft of fragment ${id} has changes that are not saved. Discard them and leave, or stay and save them?`, confirm: 'Discard', cancel: 'Stay', danger: true }));
  }, [dirty, id]);

  useShortcuts({
    undo: () => (readOnly ? undefined : model.undo()),
    redo: () => (readOnly ? undefined : model.redo()),
    save: () => void save(),
    delete: actions.deleteSelection,
    duplicate: actions.duplicate,
    selectAll: () => model.transient((m) => select(m, new Set(m.nodes.map((n) => n.id)))),
    deselect: () => model.transient((m) => select(m, new Set())),
    layout: actions.autoLayout,
    fit: canvasView.fit,
  });

  const selected = live.nodes.filter((n) => n.selected);
  const active = view.active;
  return (
    <ReadOnlyContext.Provider value={readOnly}>
      <MarksContext.Provider value={marks}>
        <div className="editor">
          <header className="editor__bar">
            <a className="back" href={fragmentsHref}>
              ← Fragments
            </a>
            <div className="editor__title">
              <h1 title={present.meta.name || id}>{present.meta.name || id}</h1>
              <span className="muted">fragment {id}</span>
              <span className={active === null ? 'chip chip--draft' : 'chip chip--active'}>{active === null ? 'not published' : `v${active} active`}</span>
              <span className={dirty ? 'chip chip--dirty' : 'chip chip--saved'} role="status" aria-label={dirty ? 'Unsaved changes' : `Saved, revision ${saved.revision}`}>
                {dirty ? 'unsaved changes' : `saved · rev ${saved.revision}`}
              </span>
            </div>
            <div className="editor__tools">
              <div className="toolgroup" role="group" aria-label="History">
                <button type="button" onClick={model.undo} disabled={readOnly || !model.canUndo} title={readOnlyReason ?? 'Undo (Ctrl+Z)'}>
                  Undo
                </button>
                <button type="button" onClick={model.redo} disabled={readOnly || !model.canRedo} title={readOnlyReason ?? 'Redo (Ctrl+Shift+Z)'}>
                  Redo
                </button>
                <button type="button" onClick={() => actions.autoLayout()} disabled={readOnly} title={readOnlyReason ?? 'Lay the fragment out (L)'}>
                  Auto-layout
                </button>
              </div>
              <div className="toolgroup" role="group" aria-label="Draft">
                <button type="button" onClick={() => void save()} disabled={readOnly || busy || !dirty} title={readOnlyReason ?? (dirty ? 'Save the draft (Ctrl+S)' : 'Nothing to save')}>
                  Save draft
                </button>
                <button type="button" onClick={() => void validate()} disabled={readOnly || busy} title={readOnlyReason ?? 'Check the fragment as a publish would'}>
                  Validate
                </button>
                <button type="button" className="primary" onClick={() => setAction('Publish')} disabled={!mayPublish || busy} title={publishReason ?? 'Publish the draft as the next version'} aria-description={publishReason}>
                  Publish…
                </button>
              </div>
            </div>
          </header>
          {readOnly && (
            <div className="banner banner--readonly" role="note">
              <strong>Read-only.</strong> Signed in as {identity.name} ({identity.role}): you can read this fragment and who uses it, but not change it.
            </div>
          )}
          <div className="editor__main">
            <Palette readOnly={readOnly} readOnlyReason={readOnlyReason} onAdd={actions.addKind} open={paletteOpen} onToggle={() => setPaletteOpen((o) => !o)} />
            <Canvas
              label={`Fragment canvas of ${id}`}
              nodes={live.nodes}
              edges={live.edges}
              readOnly={readOnly}
              onNodesChange={canvas.onNodesChange}
              onEdgesChange={canvas.onEdgesChange}
              onConnect={canvas.onConnect}
              isValidConnection={canvas.isValidConnection}
              onRefusedConnection={canvas.onRefusedConnection}
              onDropKind={actions.addKind}
              minimap={false}
            />
            <aside className="sidebar" aria-label="Side panel">
              <div className="sidebar__panel">
                {selected.length === 1 && !isExitNode(selected[0]!) ? (
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
                    onDuplicate={actions.duplicate}
                    onDelete={actions.deleteSelection}
                  />
                ) : (
                  <FragmentSettings view={view} model={live} problems={problems} readOnly={readOnly} readOnlyReason={readOnlyReason} commit={model.commit} seal={model.seal} say={say} mayPublish={mayPublish && !busy} publishReason={publishReason} onRollback={rollback} />
                )}
              </div>
            </aside>
          </div>
          <ProblemsPanel problems={problems} checking={validation.checking && refused === undefined} source={validation.source} error={validation.error} open={problemsOpen} onToggle={() => setProblemsOpen((o) => !o)} onPick={pickProblem} />
          <div className={`statusline statusline--${status?.tone ?? 'info'}`} role="status" aria-live="polite">
            {status?.text ?? ''}
          </div>
        </div>
        <FragmentPublishDialog
          action={action}
          id={id}
          view={view}
          dirty={dirty}
          problems={problems}
          busy={busy}
          outcome={outcome}
          onPublish={(note) => void publish(note)}
          onClose={() => {
            setAction(undefined);
            setOutcome(undefined);
          }}
        />
      </MarksContext.Provider>
    </ReadOnlyContext.Provider>
  );
}

import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, describeError, type Api } from '../api/client.ts';
import type { ProblemBody, ValidationProblem, WorkflowDiff, WorkflowView } from '../api/types.ts';
import { toDocument, type DraftDocument, type FlowModel } from '../graph/convert.ts';
import { laidOut, modelOf } from '../graph/layout.ts';
import type { Busy } from './useBusy.ts';
import { setLeaveGuard } from './useHashRoute.ts';
import type { EditorModel } from './useEditorModel.ts';
import type { Say } from './useStatusLine.ts';
import type { Validation } from './useValidation.ts';
import type { CanaryStart } from '../components/CanaryPanel.tsx';

/** Text that says whether two documents differ as documents (key order aside). */
const documentKey = (model: FlowModel) => JSON.stringify(toDocument(model));

export interface DraftLifecycleOptions {
  api: Api;
  workflow: WorkflowView;
  /** The model the editor opened with: what counts as saved until the first save. */
  initial: FlowModel;
  model: EditorModel;
  mayEdit: boolean;
  mayPublish: boolean;
  /** A comparison is shown: nothing is saved or published from the canvas meanwhile. */
  comparing: boolean;
  whileBusy: Busy['whileBusy'];
  say: Say;
  onWorkflowChanged(view: WorkflowView): void;
  /** A publish was refused with problems: the problems panel opens on them. */
  onPublishRefused(): void;
  /** The present step's check: a draft with problems is not offered for publication. */
  validation: Pick<Validation, 'problems' | 'checking'>;
}

/** A save refused because someone saved in between: their revision, and the one this save was based on. */
interface DraftConflict {
  problem: ProblemBody;
  baseRevision: number;
}

export interface DraftLifecycle {
  /** The draft revision the canvas was loaded from or last saved as. */
  baseRevision: number;
  /** The canvas differs from the saved draft. */
  dirty: boolean;
  conflict: DraftConflict | undefined;
  /** What the server refused a save, publish or version action for; stands until the next change. */
  refused: ValidationProblem[] | undefined;
  /** The publish dialog is open, with the draft's diff to the active version when there is one. */
  publishOffer: { diff: WorkflowDiff | undefined } | undefined;
  /** The problems of the draft (the refused ones while they stand, else the latest check's). */
  problems: ValidationProblem[];
  /** Why publishing is not offered: the draft has problems. */
  publishBlocked: string | undefined;
  save(): Promise<boolean>;
  /** Saves over the revision someone else saved (the conflict dialog's overwrite). */
  overwrite(): void;
  /** Loads the revision someone else saved, as one undoable step. */
  reloadTheirs(): Promise<void>;
  closeConflict(): void;
  /** Saves if needed, then opens the publish dialog. */
  askPublish(): Promise<void>;
  cancelPublish(): void;
  /** Publishes the saved draft, with a note kept with the new version. */
  publish(note?: string): Promise<void>;
  rollback(version: number): void;
  deprecate(version: number, sunset: string | undefined): void;
  retire(version: number): void;
  /** Starts a canary (or changes the running one), promotes or aborts it; `what` is said on success. */
  canary: { start(body: CanaryStart, what: string): void; promote(version: number): void; abort(version: number): void };
}

/** Saving, publishing and the version actions of the workflow being edited, and the leave warning while unsaved. */
export function useDraftLifecycle(options: DraftLifecycleOptions): DraftLifecycle {
  const { api, workflow, initial, model, mayEdit, mayPublish, comparing, whileBusy, say, onWorkflowChanged, onPublishRefused, validation } = options;
  const { present } = model;
  const id = workflow.id;
  const [baseRevision, setBaseRevision] = useState(workflow.draft?.revision ?? 0);
  const [savedKey, setSavedKey] = useState(() => documentKey(initial));
  const dirty = useMemo(() => documentKey(present) !== savedKey, [present, savedKey]);
  const [conflict, setConflict] = useState<DraftConflict | undefined>();
  const [refused, setRefused] = useState<ValidationProblem[] | undefined>();
  const [publishOffer, setPublishOffer] = useState<{ diff: WorkflowDiff | undefined } | undefined>();

  // A refused publish lists what the server found; it stands until the next change is checked.
  useEffect(() => setRefused(undefined), [present]);
  const problems = refused ?? validation.problems;
  const publishBlocked = problems.length === 0 ? undefined : `The draft has ${problems.length} problem${problems.length === 1 ? '' : 's'}: fix ${problems.length === 1 ? 'it' : 'them'} before publishing (see Problems below)`;

  const refreshWorkflow = useCallback(async () => {
    const view = await api.workflow(id);
    onWorkflowChanged(view);
    return view;
  }, [api, id, onWorkflowChanged]);

  const saveAt = useCallback(
    (revision: number): Promise<boolean> => {
      const document = toDocument(present);
      return whileBusy(async () => {
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
        }
      });
    },
    [api, id, present, say, refreshWorkflow, whileBusy],
  );
  const save = useCallback(() => (mayEdit && !comparing ? saveAt(baseRevision) : Promise.resolve(false)), [mayEdit, comparing, saveAt, baseRevision]);
  const overwrite = useCallback(() => {
    if (conflict) void saveAt(conflict.problem.currentRevision ?? baseRevision);
  }, [conflict, saveAt, baseRevision]);
  const closeConflict = useCallback(() => setConflict(undefined), []);

  const reloadTheirs = useCallback(async () => {
    try {
      const view = await refreshWorkflow();
      if (!view.draft) return;
      const theirs = modelOf(await laidOut(view.draft.document as DraftDocument));
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
    if (!mayPublish || comparing || publishBlocked) return;
    if (dirty && !(await save())) return;
    let summary: WorkflowDiff | undefined;
    if (workflow.active !== null) summary = await api.diff(id, 'active', 'draft').catch(() => undefined);
    setPublishOffer({ diff: summary });
  }, [mayPublish, comparing, publishBlocked, dirty, save, workflow.active, api, id]);
  const cancelPublish = useCallback(() => setPublishOffer(undefined), []);

  const publish = useCallback(async (note?: string) => {
    setPublishOffer(undefined);
    if (publishBlocked) return;
    await whileBusy(async () => {
      try {
        const result = await api.publish(id, note);
        if ('pending' in result) say('Waiting for approval: the draft removes or changes answers of the error contract, so another publisher must approve it; the active version keeps serving', 'good');
        else say(result.unchanged ? `Nothing new: the draft is version ${result.version}, which serves already` : `Published version ${result.version}; it serves now`, 'good');
        await refreshWorkflow();
      } catch (error) {
        if (error instanceof ApiError && error.problem.problems) {
          setRefused(error.problem.problems);
          onPublishRefused();
        }
        say(`Not published. ${describeError(error)}`, 'bad');
      }
    });
  }, [publishBlocked, api, id, say, refreshWorkflow, whileBusy, onPublishRefused]);

  /** A version action (rollback, deprecate, retire): said on success, its problems kept on refusal. */
  const versionAction = useCallback(
    (what: string, call: () => Promise<unknown>) =>
      whileBusy(async () => {
        try {
          await call();
          say(what, 'good');
          await refreshWorkflow();
        } catch (error) {
          if (error instanceof ApiError && error.problem.problems) setRefused(error.problem.problems);
          say(describeError(error), 'bad');
        }
      }),
    [say, refreshWorkflow, whileBusy],
  );
  const rollback = useCallback((v: number) => void versionAction(`Version ${v} serves again`, () => api.rollback(id, v)), [versionAction, api, id]);
  const deprecate = useCallback((v: number, sunset: string | undefined) => void versionAction(`Version ${v} is deprecated`, () => api.deprecate(id, v, sunset)), [versionAction, api, id]);
  const retire = useCallback((v: number) => void versionAction(`Version ${v} is retired`, () => api.retire(id, v)), [versionAction, api, id]);
  const canary = useMemo(
    () => ({
      start: (body: CanaryStart, what: string) => void versionAction(what, () => api.startCanary(id, body)),
      promote: (v: number) => void versionAction(`Version ${v} serves every request now`, () => api.promoteCanary(id)),
      abort: (v: number) => void versionAction(`The canary of version ${v} ended: the active version serves every request`, () => api.abortCanary(id, 'ended in the editor')),
    }),
    [versionAction, api, id],
  );

  // Another workflow (or page) in the hash while unsaved: asked in the app's own dialog first.
  useEffect(() => {
    if (!dirty) return;
    return setLeaveGuard(() => ({ title: 'Unsaved changes', text: `The draft of ${id} has changes that are not saved. Discard them and leave, or stay and save them?`, confirm: 'Discard', cancel: 'Stay', danger: true }));
  }, [dirty, id]);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  return { baseRevision, dirty, conflict, refused, publishOffer, problems, publishBlocked, save, overwrite, reloadTheirs, closeConflict, askPublish, cancelPublish, publish, rollback, deprecate, retire, canary };
}

import { ReactFlowProvider } from '@xyflow/react';
import { useCallback, useMemo, useState } from 'react';
import { describeError } from '../api/client.ts';
import type { KindsPayload, WorkflowView } from '../api/types.ts';
import { KindsContext, kindIndex, useSessionContext } from '../editor-context.ts';
import type { DraftDocument } from '../graph/convert.ts';
import { laidOut } from '../graph/layout.ts';
import { listHref } from '../hooks/useHashRoute.ts';
import { useResource } from '../hooks/useResource.ts';
import { ContractView } from '../contract/ContractView.tsx';
import { FragmentsContext } from '../fragments/fragments-context.ts';
import { ArchivedBanner } from './ArchivedBanner.tsx';
import { Editor } from './Editor.tsx';

/**
 * Loads a workflow and the node kinds, then opens the editor on its draft (or active version), or
 * on one version read-only (`version`), or the contract view for people (`page`).
 */
export function EditorScreen({ id, kinds, version, page }: { id: string; kinds: KindsPayload; version?: number | undefined; page?: 'contract' | undefined }) {
  if (page === 'contract') return <ContractView id={id} />;
  return <WorkflowEditorScreen id={id} kinds={kinds} version={version} />;
}

function WorkflowEditorScreen({ id, kinds, version }: { id: string; kinds: KindsPayload; version: number | undefined }) {
  const { api } = useSessionContext();
  const { resource } = useResource(async () => {
    const workflow = await api.workflow(id);
    // A workflow published from files may have no draft: its active version is where editing starts.
    const shown = version ?? (workflow.draft ? undefined : (workflow.active ?? undefined));
    const document = shown === undefined ? (workflow.draft?.document ?? { id }) : (await api.version(id, shown)).document;
    // Nodes without positions (a document written by hand or published from files) are laid out before the canvas opens.
    return { workflow, document: await laidOut(document as DraftDocument) };
  }, `${id}@${version ?? 'draft'}`);
  // The workflow as the editor last saw it change, until the next load (another id in the hash) replaces it.
  const [changed, setChanged] = useState<WorkflowView | undefined>();
  const [loaded, setLoaded] = useState(resource);
  if (loaded !== resource) {
    setLoaded(resource);
    setChanged(undefined);
  }
  const index = useMemo(() => kindIndex(kinds.categories, kinds.kinds), [kinds]);
  // The fragments subflow nodes may use: their choices, names and exits.
  const { resource: fragments } = useResource(async () => (await api.fragments()).fragments, `fragments-of-${id}`);
  const onWorkflowChanged = useCallback((view: WorkflowView) => setChanged(view), []);

  if (resource.status === 'loading') return <p className="loading">Opening {id}…</p>;
  if (resource.status === 'error')
    return (
      <div className="page">
        <p className="field__error" role="alert">
          Cannot open workflow “{id}”. {describeError(resource.error)}
        </p>
        <a href={listHref}>Back to the workflows</a>
      </div>
    );
  const shown = changed?.id === id ? changed : resource.value.workflow;
  return (
    <KindsContext.Provider value={index}>
      <FragmentsContext.Provider value={fragments}>
        <ArchivedBanner key={id} workflow={shown} onRestored={onWorkflowChanged} />
        <ReactFlowProvider>
          <Editor key={`${id}@${version ?? 'draft'}`} workflow={shown} document={resource.value.document} version={version} onWorkflowChanged={onWorkflowChanged} />
        </ReactFlowProvider>
      </FragmentsContext.Provider>
    </KindsContext.Provider>
  );
}

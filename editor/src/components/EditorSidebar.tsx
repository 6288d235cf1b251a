import type { Api } from '../api/client.ts';
import type { ValidationProblem, WorkflowView } from '../api/types.ts';
import type { PathHighlight } from '../editor-context.ts';
import { toDocument, type FlowModel, type FlowNode } from '../graph/convert.ts';
import type { DraftLifecycle } from '../hooks/useDraftLifecycle.ts';
import type { EditorModel } from '../hooks/useEditorModel.ts';
import type { SideTab } from '../hooks/useEditorPanels.ts';
import type { NodeActions } from '../hooks/useNodeActions.ts';
import type { Say } from '../hooks/useStatusLine.ts';
import type { VersionCompare } from '../hooks/useVersionCompare.ts';
import { ContractPanel } from './ContractPanel.tsx';
import { DiffDetails } from './DiffSummary.tsx';
import { Inspector } from './Inspector.tsx';
import { PreviewPanel, type WorkflowSample } from './PreviewPanel.tsx';
import { CanaryPanel } from './CanaryPanel.tsx';
import { VersionsPanel } from './VersionsPanel.tsx';
import { WorkflowSettings } from './WorkflowSettings.tsx';

export interface EditorSidebarProps {
  api: Api;
  workflow: WorkflowView;
  tab: SideTab;
  onTab(tab: SideTab): void;
  /** What the canvas shows (with selection); `present` is the step saved and previewed. */
  live: FlowModel;
  present: FlowModel;
  /** The canvas as it is now, read when a preview runs. */
  latest: { readonly current: FlowModel };
  selected: FlowNode[];
  start: string | undefined;
  problems: ValidationProblem[];
  readOnly: boolean;
  readOnlyReason: string | undefined;
  mayEdit: boolean;
  mayPublish: boolean;
  publishReason: string | undefined;
  busy: boolean;
  draft: DraftLifecycle;
  versions: VersionCompare;
  edit: Pick<EditorModel, 'commit' | 'seal'>;
  actions: NodeActions;
  say: Say;
  onHighlight(highlight: PathHighlight | undefined): void;
  /** Shown, or folded to a thin bar with a button that brings it back. */
  open: boolean;
  onToggle(): void;
}

/** The side panel: inspector (or workflow settings, or a comparison's details), versions, preview and contract, as tabs. */
export function EditorSidebar(props: EditorSidebarProps) {
  const { api, workflow, tab, onTab, present, latest, readOnly, mayEdit, mayPublish, publishReason, busy, draft, versions, edit, say, onHighlight } = props;
  const id = workflow.id;
  if (!props.open)
    return (
      <aside className="sidebar sidebar--folded" aria-label="Side panel">
        <button type="button" className="fold-button" aria-expanded="false" aria-label="Show the side panel" title="Show the side panel" onClick={props.onToggle}>
          «
        </button>
      </aside>
    );
  return (
    <aside className="sidebar">
      <div className="sidebar__top">
      <button type="button" className="fold-button" aria-expanded="true" aria-label="Hide the side panel" title="Hide the side panel" onClick={props.onToggle}>
        »
      </button>
      <div className="tabs" role="tablist" aria-label="Side panel">
        <button type="button" role="tab" aria-selected={tab === 'inspect'} aria-controls="panel-inspect" id="tab-inspect" onClick={() => onTab('inspect')}>
          Inspector
        </button>
        <button type="button" role="tab" aria-selected={tab === 'versions'} aria-controls="panel-versions" id="tab-versions" onClick={() => onTab('versions')}>
          Versions ({workflow.versions.length})
        </button>
        <button type="button" role="tab" aria-selected={tab === 'preview'} aria-controls="panel-preview" id="tab-preview" onClick={() => onTab('preview')}>
          Preview
        </button>
        <button type="button" role="tab" aria-selected={tab === 'contract'} aria-controls="panel-contract" id="tab-contract" onClick={() => onTab('contract')}>
          Contract
        </button>
      </div>
      </div>
      <div className="sidebar__panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {/* kept mounted: the request being built survives a look at another tab */}
        <div hidden={tab !== 'preview'}>
          <PreviewPanel
            api={api}
            workflowId={id}
            document={() => toDocument(latest.current) as unknown as Record<string, unknown>}
            route={{ methods: present.meta.route?.methods ?? ['GET'], path: present.meta.route?.path ?? '/' }}
            tests={present.meta.tests ?? []}
            samples={(present.meta as { samples?: WorkflowSample[] }).samples ?? []}
            readOnly={readOnly}
            canMintTokens={mayEdit}
            onHighlight={onHighlight}
            onSaveTest={(test) => {
              edit.commit((m) => ({ ...m, meta: { ...m.meta, tests: [...(m.meta.tests ?? []), test as NonNullable<typeof m.meta.tests>[number]] } }));
              say(`Saved the test "${test.name}": it runs before every publish once the draft is saved`, 'good');
            }}
            onSaveSample={(sample) => {
              edit.commit((m) => ({ ...m, meta: { ...m.meta, samples: [...((m.meta as { samples?: WorkflowSample[] }).samples ?? []), sample] } as typeof m.meta }));
              say(`Saved the sample "${sample.name}" with the workflow (save the draft to keep it)`, 'good');
            }}
          />
        </div>
        {tab === 'preview' ? null : tab === 'contract' ? (
          <ContractPanel api={api} workflowId={id} hasActive={workflow.active !== null} draftRevision={draft.baseRevision} onHighlight={onHighlight} edges={() => latest.current.edges.map((e) => ({ from: e.source, port: e.sourceHandle ?? '', to: e.target }))} />
        ) : tab === 'versions' ? (
          <>
            <CanaryPanel key={workflow.canary?.id ?? 'none'} api={api} workflow={workflow} canPublish={mayPublish} publishReason={publishReason} busy={busy} onStart={draft.canary.start} onPromote={draft.canary.promote} onAbort={draft.canary.abort} />
            <VersionsPanel
              workflow={workflow}
              canPublish={mayPublish}
              publishReason={publishReason}
              busy={busy}
              onCompare={(from, to) => void versions.compare(from, to)}
              onRollback={draft.rollback}
              onDeprecate={draft.deprecate}
              onRetire={draft.retire}
            />
          </>
        ) : versions.comparison ? (
          <DiffDetails diff={versions.comparison.diff} />
        ) : (
          <SelectionPanel {...props} />
        )}
      </div>
    </aside>
  );
}

/** The inspector tab: one node's form, a summary of several, or the workflow's settings when none is selected. */
function SelectionPanel({ live, selected, start, problems, readOnly, readOnlyReason, edit, actions, say }: EditorSidebarProps) {
  if (selected.length === 1)
    return (
      <Inspector
        key={selected[0]!.id}
        node={selected[0]!}
        model={live}
        start={start}
        problems={problems}
        readOnly={readOnly}
        readOnlyReason={readOnlyReason}
        commit={edit.commit}
        seal={edit.seal}
        onDuplicate={actions.duplicate}
        onDelete={actions.deleteSelection}
      />
    );
  if (selected.length > 1)
    return (
      <section className="inspector" aria-label="Selection">
        <h2>{selected.length} nodes selected</h2>
        <p className="muted">{selected.map((n) => n.id).join(', ')}</p>
        <div className="inspector__actions">
          <button type="button" onClick={() => void actions.clipboard.copy().then(() => say('Copied the selected nodes as JSON'))}>
            Copy
          </button>
          <button type="button" onClick={actions.duplicate} disabled={readOnly} title={readOnlyReason}>
            Duplicate
          </button>
          <button type="button" className="danger" onClick={actions.deleteSelection} disabled={readOnly} title={readOnlyReason}>
            Delete {selected.length} nodes
          </button>
        </div>
      </section>
    );
  return <WorkflowSettings model={live} start={start} problems={problems} readOnly={readOnly} readOnlyReason={readOnlyReason} commit={edit.commit} seal={edit.seal} />;
}

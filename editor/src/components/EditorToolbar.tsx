import { workflowState } from '../../../shared/admin/index.ts';
import type { WorkflowView } from '../api/types.ts';
import type { WorkflowMeta } from '../graph/convert.ts';
import type { LayoutDirection } from '../graph/layout.ts';
import type { DraftLifecycle } from '../hooks/useDraftLifecycle.ts';
import type { EditorModel } from '../hooks/useEditorModel.ts';
import { useAsk } from '../hooks/useAsk.ts';
import { goWithoutAsking, listHref } from '../hooks/useHashRoute.ts';
import type { ImportExport } from '../hooks/useImportExport.ts';
import type { LiveMode } from '../hooks/useLiveMode.ts';
import type { NodeActions } from '../hooks/useNodeActions.ts';
import type { Say } from '../hooks/useStatusLine.ts';
import { AskDialog } from './Dialog.tsx';
import { LiveControls } from './LiveControls.tsx';
import { ToolGroup } from './Toolbar.tsx';
import { WorkflowProducts } from './WorkflowProducts.tsx';

export interface EditorToolbarProps {
  workflow: WorkflowView;
  meta: WorkflowMeta;
  draft: DraftLifecycle;
  history: Pick<EditorModel, 'undo' | 'redo' | 'canUndo' | 'canRedo'>;
  actions: NodeActions;
  file: Pick<ImportExport, 'openImport' | 'exportJson'>;
  live: LiveMode;
  readOnly: boolean;
  /** Why the canvas may not be changed, if it may not. */
  readOnlyReason: string | undefined;
  mayPublish: boolean;
  publishReason: string | undefined;
  comparing: boolean;
  busy: boolean;
  nothingSelected: boolean;
  edgeSelected: boolean;
  say: Say;
  onHelp(): void;
  /** How the canvas is drawn: the layout direction (changing it lays the workflow out again) and the minimap. */
  view: { direction: LayoutDirection; onDirection(direction: LayoutDirection): void; minimapShown: boolean; onToggleMinimap(): void };
}

/** Where the published version stands, for the title's chip. */
const stateOf = (workflow: WorkflowView) => workflowState(workflow.active === null ? undefined : (workflow.versions.find((v) => v.version === workflow.active) ?? {}));

/** The editor's top bar: the way back, what is open and whether it is saved, and the tool groups. */
export function EditorToolbar(props: EditorToolbarProps) {
  const { workflow, meta, draft, history, actions, file, live, readOnly, readOnlyReason: noEdit, mayPublish, publishReason, comparing, busy, nothingSelected, edgeSelected, say, onHelp, view } = props;
  const id = workflow.id;
  const state = stateOf(workflow);
  const { dirty, baseRevision } = draft;
  const { clipboard } = actions;
  const ask = useAsk();
  return (
    <header className="editor__bar">
      <a
        className="back"
        href={listHref}
        onClick={(e) => {
          if (!dirty) return;
          e.preventDefault();
          void ask.confirm({ title: 'Leave without saving?', text: 'Your unsaved changes will be lost.', confirm: 'Leave without saving', danger: true }).then((leave) => leave && goWithoutAsking(listHref));
        }}
      >
        ← Workflows
      </a>
      <div className="editor__title">
        <h1 title={meta.name || id}>{meta.name || id}</h1>
        <span className="muted" title={`${id} · ${(meta.route?.methods ?? []).join(', ')} ${meta.route?.path ?? ''}`}>
          {id} · {(meta.route?.methods ?? []).join(', ')} {meta.route?.path ?? ''}
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
            { label: 'Undo', icon: '↶', onClick: history.undo, disabled: readOnly || !history.canUndo, reason: noEdit ?? 'Nothing to undo', keys: 'Ctrl+Z' },
            { label: 'Redo', icon: '↷', onClick: history.redo, disabled: readOnly || !history.canRedo, reason: noEdit ?? 'Nothing to redo', keys: 'Ctrl+Shift+Z' },
          ]}
        />
        <ToolGroup
          label="Arrange"
          buttons={[
            { label: 'Auto-layout', onClick: () => actions.autoLayout(), disabled: readOnly, reason: noEdit, keys: 'L' },
            { label: 'Copy', onClick: () => void clipboard.copy().then((ok) => say(ok ? 'Copied the selected nodes as JSON' : 'Select nodes to copy')), disabled: nothingSelected, reason: 'Select nodes to copy', keys: 'Ctrl+C' },
            { label: 'Paste', onClick: () => void clipboard.paste().then((ok) => !ok && say('The clipboard holds no Sluice nodes', 'bad')), disabled: readOnly, reason: noEdit, keys: 'Ctrl+V' },
            { label: 'Duplicate', onClick: actions.duplicate, disabled: readOnly || nothingSelected, reason: noEdit ?? 'Select nodes to duplicate', keys: 'Ctrl+D' },
            { label: 'Delete', onClick: actions.deleteSelection, disabled: readOnly || (nothingSelected && !edgeSelected), reason: noEdit ?? 'Select nodes or edges to delete', keys: 'Delete' },
          ]}
        />
        <div className="toolgroup toolgroup--view" role="group" aria-label="View">
          <select
            aria-label="Layout direction"
            value={view.direction}
            disabled={readOnly}
            title={readOnly ? noEdit : 'Which way requests flow; changing it lays the workflow out again'}
            onChange={(e) => view.onDirection(e.target.value as LayoutDirection)}
          >
            <option value="LR">→ Left to right</option>
            <option value="TB">↓ Top to bottom</option>
          </select>
          <button type="button" aria-pressed={view.minimapShown} onClick={view.onToggleMinimap} title={view.minimapShown ? 'Hide the minimap' : 'Show the minimap'}>
            Minimap
          </button>
        </div>
        <ToolGroup
          label="File"
          buttons={[
            { label: 'Import', onClick: file.openImport, disabled: readOnly, reason: noEdit },
            { label: 'Export', onClick: file.exportJson },
          ]}
        />
        <ToolGroup
          label="Lifecycle"
          buttons={[
            { label: 'Save draft', onClick: () => void draft.save(), disabled: readOnly || busy, reason: noEdit ?? 'Busy', keys: 'Ctrl+S' },
            { label: 'Publish…', primary: true, onClick: () => void draft.askPublish(), disabled: !mayPublish || comparing || busy || draft.publishBlocked !== undefined, reason: publishReason ?? noEdit ?? draft.publishBlocked ?? 'Busy' },
          ]}
        />
        <LiveControls
          on={live.on}
          unavailable={workflow.active === null ? 'Live traffic needs a published version' : undefined}
          partner={live.partner}
          counts={live.counts}
          onToggle={live.toggle}
          onPartner={live.setPartner}
        />
        <button type="button" className="icon-button help-button" aria-label="Keyboard shortcuts" aria-keyshortcuts="?" title="Keyboard shortcuts (?)" onClick={onHelp}>
          ?
        </button>
      </div>
      <AskDialog question={ask.question} onAnswer={ask.answer} />
    </header>
  );
}

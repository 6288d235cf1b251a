import { useCallback, useState } from 'react';
import { PERMISSIONS, type Role } from '../../../shared/admin/index.ts';
import { describeError, type Api } from '../api/client.ts';
import { can } from '../api/roles.ts';
import { useAsk, type Ask } from './useAsk.ts';

/** A workflow as archiving needs to name it. */
interface Named {
  id: string;
  name?: string | undefined;
  versionCount?: number;
  activeVersion?: number | null;
}

export interface ArchiveActions {
  /** Why the actions are disabled for this role; undefined when it may use them (publish permission). */
  reason: string | undefined;
  ask: Ask;
  /** What the last action did, or why it was refused. */
  note: { text: string; tone: 'good' | 'bad' } | undefined;
  /** Asks (with an optional reason) and archives; true once archived. */
  archive(workflow: Named): Promise<boolean>;
  restore(workflow: Named): Promise<boolean>;
  /** Asks and deletes a workflow that never had a version. */
  remove(workflow: Named): Promise<boolean>;
}

/** Why a role may not archive, restore or delete: they take the publish permission. */
function archiveReason(role: Role): string | undefined {
  if (can(role, 'publish')) return undefined;
  const roles = [...PERMISSIONS.publish];
  return `The ${role} role cannot archive, restore or delete workflows (needs ${roles.join(' or ')})`;
}

const label = (w: Named) => (w.name ? `${w.name} (${w.id})` : w.id);

/**
 * Archive, restore and delete of workflows, each asked first in the editor's own dialog (render
 * `<AskDialog question={actions.ask.question} onAnswer={actions.ask.answer} />`); `onDone` runs
 * after a change (reload the list or the workflow).
 */
export function useArchive(api: Api, role: Role, onDone: () => void): ArchiveActions {
  const ask = useAsk();
  const [note, setNote] = useState<ArchiveActions['note']>();
  const reason = archiveReason(role);

  const run = useCallback(
    async (call: () => Promise<string>) => {
      try {
        setNote({ text: await call(), tone: 'good' });
        onDone();
        return true;
      } catch (error) {
        setNote({ text: describeError(error), tone: 'bad' });
        return false;
      }
    },
    [onDone],
  );

  const archive = useCallback(
    async (w: Named) => {
      if (reason) return false;
      const serving = w.activeVersion ? `It stops serving version ${w.activeVersion} now: its route answers 404 and is free for other workflows. ` : 'Its route is free for other workflows. ';
      const answer = await ask.prompt({
        title: `Archive ${label(w)}`,
        text: `${serving}Its draft and versions are kept for audit, read-only until it is restored.`,
        confirm: 'Archive',
        danger: true,
        input: { label: 'Reason (optional, kept in the audit log)', value: '', optional: true },
      });
      if (answer === undefined) return false;
      return run(async () => {
        await api.archive(w.id, answer.trim() || undefined);
        return `Archived ${label(w)}${w.activeVersion ? `: version ${w.activeVersion} no longer serves` : ''}`;
      });
    },
    [reason, ask, run, api],
  );

  const restore = useCallback(
    (w: Named) =>
      reason
        ? Promise.resolve(false)
        : run(async () => {
            const restored = await api.restore(w.id);
            if (restored.active !== null) return `Restored ${label(w)}: version ${restored.active} serves again`;
            return `Restored ${label(w)}, inactive${restored.inactiveBecause ? ` (${restored.inactiveBecause})` : ''}: nothing of it serves until you publish or roll back`;
          }),
    [reason, run, api],
  );

  const remove = useCallback(
    async (w: Named) => {
      if (reason) return false;
      const yes = await ask.confirm({ title: `Delete ${label(w)}`, text: `${label(w)} was never published: its draft is deleted for good (the audit log keeps that it existed). This cannot be undone.`, confirm: 'Delete', danger: true });
      if (!yes) return false;
      return run(async () => {
        await api.deleteWorkflow(w.id);
        return `Deleted ${label(w)}`;
      });
    },
    [reason, ask, run, api],
  );

  return { reason, ask, note, archive, restore, remove };
}

import type { FragmentUseView } from '../api/types.ts';
import { workflowHref } from '../hooks/useHashRoute.ts';

/** Where a use is: "v3", "draft". */
const where = (use: FragmentUseView) => (use.in === 'draft' ? 'draft' : `v${use.in}`);

/**
 * The workflows that use a fragment, one link each, with the subflow nodes, where (a version or
 * the draft) and the fragment version they pin, if any.
 */
export function UsedBy({ uses, label }: { uses: readonly FragmentUseView[]; label: string }) {
  if (uses.length === 0) return <span className="muted">no workflow</span>;
  const byWorkflow = new Map<string, FragmentUseView[]>();
  for (const use of uses) (byWorkflow.get(use.workflow) ?? byWorkflow.set(use.workflow, []).get(use.workflow)!).push(use);
  return (
    <ul className="used-by" aria-label={label}>
      {[...byWorkflow].map(([workflow, list]) => (
        <li key={workflow}>
          <a href={workflowHref(workflow)}>{workflow}</a>{' '}
          <span className="muted small">
            {list.map((u) => `${u.node} in ${where(u)}${u.pinned === undefined ? '' : `, pinned to v${u.pinned}`}`).join('; ')}
          </span>
        </li>
      ))}
    </ul>
  );
}

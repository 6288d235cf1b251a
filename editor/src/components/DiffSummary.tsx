import { changeWords } from '../../../shared/compile/index.ts';
import type { WorkflowDiff } from '../api/types.ts';

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The banner over a comparison: what changed between two versions, in one line, and the way out. */
export function DiffSummary({ from, to, diff, onClose }: { from: string; to: string; diff: WorkflowDiff; onClose(): void }) {
  return (
    <div className="banner banner--diff" role="region" aria-label="Comparison">
      <strong>
        Comparing {from} → {to}:
      </strong>{' '}
      {diff.same ? (
        'no changes (layout is not compared).'
      ) : (
        <>
          <span className="legend legend--added">{count(diff.nodes.added.length, 'node')} added</span>, <span className="legend legend--changed">{diff.nodes.changed.length} changed</span>,{' '}
          <span className="legend legend--removed">{diff.nodes.removed.length} removed</span>; {count(diff.edges.added.length, 'edge')} added, {diff.edges.removed.length} removed
          {diff.fields.length > 0 ? `; workflow settings: ${diff.fields.join(', ')}` : ''}.
        </>
      )}{' '}
      <button type="button" onClick={onClose}>
        Close comparison
      </button>
    </div>
  );
}

/** Every change of a diff, listed: for the side panel and the publish dialog. */
export function DiffDetails({ diff }: { diff: WorkflowDiff }) {
  return (
    <section className="diff-details" aria-label="Changes">
      <h2>Changes</h2>
      {diff.same && <p className="muted">Nothing but layout differs.</p>}
      <ul>
        {diff.nodes.added.map((n) => (
          <li key={`a-${n.id}`} className="legend legend--added">
            + node <code>{n.id}</code> ({n.kind})
          </li>
        ))}
        {diff.nodes.removed.map((n) => (
          <li key={`r-${n.id}`} className="legend legend--removed">
            − node <code>{n.id}</code> ({n.kind})
          </li>
        ))}
        {diff.nodes.changed.map((c) => (
          <li key={`c-${c.id}`} className="legend legend--changed">
            ~ node <code>{c.id}</code> ({c.after.kind}){(c.changes ?? []).length === 0 ? `: ${c.fields.join(', ')}` : ':'}
            <FieldChanges changes={c.changes ?? []} />
          </li>
        ))}
        {diff.edges.added.map((e) => (
          <li key={`ea-${e.from}-${e.port}-${e.to}`} className="legend legend--added">
            + edge {e.from}.{e.port} → {e.to}
          </li>
        ))}
        {diff.edges.removed.map((e) => (
          <li key={`er-${e.from}-${e.port}-${e.to}`} className="legend legend--removed">
            − edge {e.from}.{e.port} → {e.to}
          </li>
        ))}
        {(diff.settings ?? []).length > 0 ? (
          <li className="legend legend--changed">
            ~ workflow settings:
            <FieldChanges changes={diff.settings} />
          </li>
        ) : (
          diff.fields.map((f) => (
            <li key={`f-${f}`} className="legend legend--changed">
              ~ workflow {f}
            </li>
          ))
        )}
      </ul>
    </section>
  );
}

/** Old and new values of changed fields, one a line: `"limit": 100 → 50`. */
function FieldChanges({ changes }: { changes: WorkflowDiff['settings'] }) {
  if (changes.length === 0) return null;
  return (
    <ul className="diff-values" aria-label="Old and new values">
      {changes.map((f) => (
        <li key={f.field}>
          <code>{changeWords(f, '→')}</code>
        </li>
      ))}
    </ul>
  );
}

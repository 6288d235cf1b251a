import type { LiveCounts } from '../hooks/useLiveCounts.ts';

const OUTCOME_LABELS: Array<[outcome: string, label: string]> = [
  ['ok', 'ok'],
  ['invalid_credentials', '401'],
  ['denied', '403'],
  ['limited', '429'],
  ['rejected', 'other 4xx'],
  ['upstream_error', 'upstream'],
  ['error', 'error'],
];

/** A count or a rate, short enough for a port row or an edge label. */
export function formatRate(perSecond: number | undefined, count: number): string {
  if (perSecond === undefined) return `${count}`;
  return `${count} · ${perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(1)}/s`;
}

export interface LiveControlsProps {
  on: boolean;
  /** Why live mode is unavailable (no version served yet). */
  unavailable: string | undefined;
  partner: string | undefined;
  counts: LiveCounts | undefined;
  onToggle(): void;
  onPartner(partner: string | undefined): void;
}

/** The toolbar's live toggle and partner filter. */
export function LiveControls({ on, unavailable, partner, counts, onToggle, onPartner }: LiveControlsProps) {
  const partners = [...new Set([...(counts?.partners ?? []), ...(partner ? [partner] : [])])].sort();
  return (
    <div className="toolgroup" role="group" aria-label="Live traffic">
      <button type="button" aria-pressed={on} className={on ? 'live-toggle live-toggle--on' : 'live-toggle'} onClick={onToggle} disabled={unavailable !== undefined} title={unavailable ?? 'Draw live traffic of the served version over the canvas'}>
        <span aria-hidden="true">●</span> Live
      </button>
      {on && (
        <select aria-label="Partner filter" value={partner ?? ''} onChange={(e) => onPartner(e.target.value || undefined)}>
          <option value="">all partners</option>
          {partners.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}

/**
 * The served version's outcome totals over the last minute, under the toolbar while live, and
 * which version the canvas shows (`shown`, once its graph is read).
 */
export function LiveSummary({ counts, error, shown }: { counts: LiveCounts | undefined; error: string | undefined; shown: number | undefined }) {
  return (
    <div className="banner banner--live" role="status" aria-label="Live outcomes">
      {error ? (
        <span>Live counts unavailable: {error}</span>
      ) : !counts || shown === undefined ? (
        <span>Reading live counts…</span>
      ) : (
        <>
          <strong>
            Live · version {counts.version}
            {counts.partner ? ` · ${counts.partner}` : ''}
          </strong>
          <span className="muted">last minute: {counts.lastMinute.requests} requests</span>
          {OUTCOME_LABELS.map(([outcome, label]) => (
            <span key={outcome} className={`chip chip--outcome chip--outcome-${outcome}`} aria-label={`${outcome}: ${counts.lastMinute.outcomes[outcome] ?? 0}`}>
              {label} {counts.lastMinute.outcomes[outcome] ?? 0}
            </span>
          ))}
          {counts.tokens ? (
            <span className="muted" aria-label="LLM tokens">
              LLM tokens since start: {counts.tokens.input} in · {counts.tokens.output} out{counts.tokens.estimated > 0 ? ` (${counts.tokens.estimated} estimated)` : ''}
            </span>
          ) : null}
          <span className="muted">edges: requests since this gateway started · per second</span>
          <span className="muted">The canvas shows version {shown} as it serves (read-only); turn Live off to edit the draft.</span>
        </>
      )}
    </div>
  );
}

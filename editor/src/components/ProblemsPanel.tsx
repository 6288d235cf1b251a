import type { ValidationProblem } from '../api/types.ts';

export interface ProblemsPanelProps {
  problems: ValidationProblem[];
  checking: boolean;
  source: 'server' | 'local';
  error: string | undefined;
  open: boolean;
  onToggle(): void;
  onPick(problem: ValidationProblem): void;
}

/** Every problem of the workflow; picking one selects its node and moves focus to its field. */
export function ProblemsPanel({ problems, checking, source, error, open, onToggle, onPick }: ProblemsPanelProps) {
  // A pending check never hides the count: the problems known stand until the check of the latest change answers.
  const summary = problems.length === 0 ? (checking ? 'Checking…' : 'No problems') : `${problems.length} problem${problems.length === 1 ? '' : 's'}${checking ? ' (checking…)' : ''}`;
  return (
    <section className={open ? 'problems problems--open' : 'problems'} aria-label="Problems">
      <button type="button" className="problems__toggle" aria-expanded={open} aria-controls={open && (problems.length > 0 || error) ? 'problems-list' : undefined} onClick={onToggle}>
        <span className={problems.length > 0 ? 'dot dot--bad' : 'dot dot--good'} aria-hidden="true" />
        Problems: <span role="status">{summary}</span>
        <span className="muted">
          {problems.length === 0 && !checking ? ' — nothing stops a publish' : ''}
          {source === 'server' ? ' (checked as a publish would)' : ' (graph rules, checked in the browser)'}
        </span>
      </button>
      {open && (problems.length > 0 || error) && (
        <div id="problems-list" className="problems__list">
          {error && problems.length === 0 && <p className="field__error">The check could not run: {error}</p>}
          <ul>
            {problems.map((p, i) => (
              <li key={i}>
                <button type="button" className="problem" onClick={() => onPick(p)}>
                  <code className="problem__code">{p.code}</code>
                  <span className="problem__where">
                    {p.node ?? 'workflow'}
                    {p.field ? ` · ${p.field}` : ''}
                  </span>
                  <span className="problem__message">{p.message}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

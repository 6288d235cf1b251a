import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Where each adversarial group writes its case count. */
export const SUMMARY_DIR = join(import.meta.dirname, '..', '..', 'test-results', 'adversarial');

/** Vitest global setup: clears the counts before the run and prints one summary line after it. */
export function setup() {
  // each vitest project runs the global setup: only the first of the run clears
  if (process.env.SLUICE_ADVERSARIAL_SUMMARY === 'started') return;
  process.env.SLUICE_ADVERSARIAL_SUMMARY = 'started';
  rmSync(SUMMARY_DIR, { recursive: true, force: true });
}

export function teardown() {
  if (process.env.SLUICE_ADVERSARIAL_SUMMARY === 'printed' || !existsSync(SUMMARY_DIR)) return;
  const groups = readdirSync(SUMMARY_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(SUMMARY_DIR, f), 'utf8')) as { group: string; cases: number })
    .sort((a, b) => a.group.localeCompare(b.group));
  if (groups.length === 0) return;
  process.env.SLUICE_ADVERSARIAL_SUMMARY = 'printed';
  const total = groups.reduce((n, g) => n + g.cases, 0);
  console.log(`\nadversarial suite: ${total} cases — ${groups.map((g) => `${g.group} ${g.cases}`).join(', ')}`);
}

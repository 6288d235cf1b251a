// Numbers to text and JSON: medians, aligned tables, PASS/FAIL checks, the results file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { CAN_PIN, REPO } from './children.ts';
import { CONNECTIONS } from './loadgen.ts';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function fmt(n: number | undefined, digits: number): string {
  return n === undefined ? '-' : n.toFixed(digits);
}

/** Prints rows under a header, the first column left-aligned and the others right-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((s, i) => (i === 0 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const c of rows) console.log(line(c));
}

/** A "done means" figure: PASS, FAIL, or SKIP when a target it needs was not measured. */
export interface Check {
  name: string;
  result: 'PASS' | 'FAIL' | 'SKIP';
  detail: string;
}

/** `value >= threshold` (or `<=`), or SKIP with why when the value could not be measured. */
export function check(name: string, value: number | undefined, op: '>=' | '<=', threshold: number, detail: string, skipReason?: string): Check {
  if (value === undefined || !Number.isFinite(value)) return { name, result: 'SKIP', detail: skipReason ?? 'not measured' };
  const pass = op === '>=' ? value >= threshold : value <= threshold;
  return { name, result: pass ? 'PASS' : 'FAIL', detail: `${fmt(value, 2)} ${op} ${threshold}: ${detail}` };
}

export function printChecks(checks: Check[]): void {
  console.log('\nchecks (issue 8, "Done means"):');
  const width = Math.max(...checks.map((c) => c.name.length));
  // A long reason (npm's output, a log tail) is printed in full above the checks: one line here.
  for (const c of checks) console.log(`  ${c.result.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail.split('\n')[0]}${c.detail.includes('\n') ? ' …' : ''}`);
  const count = (r: Check['result']) => checks.filter((c) => c.result === r).length;
  console.log(`  ${count('PASS')} pass, ${count('FAIL')} fail, ${count('SKIP')} skipped`);
}

/** The machine and settings every results file starts with. */
function machine() {
  return { node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, pinned: CAN_PIN, connections: CONNECTIONS };
}

/** Writes bench/results/<mode>-<ISO timestamp>.json (git-ignored) and returns its path. */
export function writeResults(mode: string, results: Record<string, unknown>): string {
  const dir = join(REPO, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const path = join(dir, `${mode}-${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify({ mode, date, ...machine(), ...results }, null, 2)}\n`);
  return path;
}

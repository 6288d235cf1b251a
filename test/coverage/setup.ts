import { mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TestProject } from 'vitest/node';
import { coverageGaps, readRecords } from './check.ts';
import { COVERAGE_DIR_ENV } from './collector.ts';

/** Where the test processes write what they reached (git-ignored with test-results/). */
const DIR = join(import.meta.dirname, '..', '..', 'test-results', 'coverage-ports');

/**
 * SLUICE_PORT_COVERAGE=check runs the check after a partial run too (what those files reach
 * alone); off: nothing is collected.
 */
const MODE = process.env.SLUICE_PORT_COVERAGE;

let project: TestProject | undefined;

/**
 * Vitest global setup: names an empty records directory for the test processes (forks inherit
 * the variable), and after the run checks that every port and declared error of every kind was
 * reached over HTTP (check.ts). Each project runs the global setup: only the first of a run acts.
 */
export function setup(current: TestProject): void {
  if (MODE === 'off' || process.env[COVERAGE_DIR_ENV] !== undefined) return;
  project = current;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  process.env[COVERAGE_DIR_ENV] = DIR;
}

/**
 * After the whole run (every project's files): the check, when every test file ran with no name
 * filter (a run of some files reaches only their ports), or when asked for. Gaps fail the run.
 */
export async function teardown(): Promise<void> {
  if (project === undefined) return;
  const vitest = project.vitest;
  project = undefined;
  const ran = new Set(vitest.state.getFiles().map((file) => file.filepath));
  const all = await vitest.globTestSpecifications();
  const notRun = [...new Set(all.map((spec) => spec.moduleId))].filter((file) => !ran.has(file));
  const full = notRun.length === 0 && vitest.config.testNamePattern === undefined;
  if (!full && MODE !== 'check') {
    console.log(`\nport coverage: not checked (${ran.size} of ${ran.size + notRun.length} test files ran; the check needs them all, or SLUICE_PORT_COVERAGE=check)`);
    return;
  }
  const { gaps, reached } = coverageGaps(readRecords(DIR));
  if (gaps.length === 0) {
    console.log(`\nport coverage: every port and declared error of ${reached.kinds} kinds reached over HTTP (${reached.ports} ports, ${reached.errors} errors, from ${reached.files} test files)`);
    return;
  }
  console.error(
    `\nport coverage: ${gaps.length} gap${gaps.length === 1 ? '' : 's'}: no test reached these over HTTP (records in ${relative(process.cwd(), DIR)})\n${gaps.map((g) => `  ${g}`).join('\n')}`,
  );
  process.exitCode = 1;
}

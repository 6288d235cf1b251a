import { expect } from 'vitest';
import type { TestGateway } from './gateway.ts';

/**
 * Scrapes a test gateway's /metrics (as `token`'s holder) and gives the samples of `name` whose
 * labels include `labels`, by the value of the label `by`: e.g. the cache lookups of one node by result.
 */
export async function scrapeBy(gw: TestGateway, token: string, name: string, labels: Record<string, string>, by: string): Promise<Record<string, number>> {
  const res = await gw.fetch('/metrics', { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const found: Record<string, number> = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const sample: Record<string, string> = {};
    for (const pair of m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) sample[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([k, v]) => sample[k] === v) && sample[by] !== undefined) found[sample[by]] = Number(m[3]);
  }
  return found;
}

import { describe, expect, it } from 'vitest';
import { COLUMNS, lineOf, rowOf } from '../../../engine/evidence/sql.ts';
import type { EvidenceRecord } from '../../../engine/evidence/types.ts';

const base: EvidenceRecord = {
  time: 1_796_484_284_825, traceId: '0af7651916cd43dd8448eb211c80319c', replica: 'replica-a', method: 'GET', partner: 'acme', product: 'orders-api',
  workflow: 'orders', version: 3, route: '/orders/:id', subject: 'a1b2c3d4e5f60718', credential: 'jwt-verify', keyId: null, nodes: ['verify:ok', 'scopes:ok', 'call:ok'],
  outcome: 'ok', status: 200, problem: null, ms: 12.345678, upstreamStatus: 200, upstreamMs: 9.25, model: null, inputTokens: null, outputTokens: null,
};

describe("the evidence spool's line (lineOf)", () => {
  it('is the JSON of rowOf, member for member in table order, for plain, escaped and absent values', () => {
    const records: EvidenceRecord[] = [
      base,
      { ...base, partner: null, product: null, workflow: null, version: null, route: null, subject: null, credential: null, nodes: [], problem: null, upstreamStatus: null, upstreamMs: null },
      { ...base, partner: 'a "quoted"\\ partner\n', subject: 'tab\there \u2028 ünïcode', route: '/a/{id}?x=1&y=<2>', method: 'PURGE', problem: 'https://sluice.dev/problems/partner-suspended', status: 403, keyId: 'k7Hq2Zx9' },
      { ...base, model: 'gpt-4o "mini"', inputTokens: 1_234, outputTokens: 0, ms: 0, upstreamMs: 1e-7, credential: 'api-key', nodes: ['only:fault'] },
      { ...base, ms: Number.NaN, upstreamMs: Number.POSITIVE_INFINITY },
    ];
    for (const record of records) {
      const line = lineOf(record);
      expect(line).toBe(JSON.stringify(rowOf(record)));
      expect(Object.keys(JSON.parse(line) as object)).toEqual(COLUMNS.map(([column]) => column));
      expect(line).not.toContain('\n');
    }
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sealEntry, type AuditEntry } from '../../../engine/store/audit.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, stamped, startAdminGateway, type Admin } from './support.ts';

/*
 * Tampering with <data>/store/audit.jsonl behind the gateway's back: each case edits the file,
 * asks GET /admin/api/audit/verify, and puts the original back. Positions are 1-based lines.
 */

describe('audit log verification', () => {
  let gw: TestGateway;
  let admin: Admin;
  let file: string;
  let original: string;
  let entries: AuditEntry[];

  const write = (lines: unknown[]) => writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  const verify = async () => {
    const answer = await admin('auditor', 'GET', '/audit/verify');
    expect(answer.status).toBe(200);
    return answer.body;
  };

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
    await admin('editor', 'POST', '/workflows', { document: stamped('audited', '/audited', '1') });
    await admin('publisher', 'POST', '/workflows/audited/publish');
    await admin('editor', 'PUT', '/workflows/audited/draft', { document: stamped('audited', '/audited', '2'), baseRevision: 1 });
    await admin('publisher', 'POST', '/workflows/audited/publish');
    await admin('viewer', 'POST', '/workflows/audited/publish'); // refused: recorded too
    await admin('publisher', 'POST', '/workflows/audited/rollback', { version: 1 });
    await admin('publisher', 'POST', '/workflows/audited/deprecate', { version: 2 });
    file = join(gw.dataDir, 'store', 'audit.jsonl');
    original = readFileSync(file, 'utf8');
    entries = original.trim().split('\n').map((line) => JSON.parse(line) as AuditEntry);
  });
  afterEach(() => writeFileSync(file, original));
  afterAll(() => gw.close());

  it('an untouched log verifies, with its entry count and head', async () => {
    expect(entries.map((e) => e.action)).toEqual(['catalog.update', 'workflow.create', 'workflow.publish', 'draft.save', 'workflow.publish', 'refused', 'workflow.rollback', 'workflow.deprecate']);
    expect(await verify()).toEqual({ ok: true, entries: 8, head: entries[7]!.hash });
    expect((await admin('viewer', 'GET', '/status')).body.revision).toBe(8);
  });

  it.each([
    ['an edited field', () => entries.map((e, i) => (i === 3 ? { ...e, actor: 'mallory' } : e)), { problem: 'hash_mismatch', at: 4, position: 4 }, /altered/],
    ['an edited version number', () => entries.map((e, i) => (i === 4 ? { ...e, version: 1 } : e)), { problem: 'hash_mismatch', at: 5, position: 5 }, /altered/],
    ['an edited entry with its hash recomputed', () => entries.map((e, i) => (i === 3 ? sealEntry({ ...e, actor: 'mallory' }, entries[2]) : e)), { problem: 'broken_link', at: 5, position: 5 }, /link/],
    ['a deleted entry', () => entries.filter((_, i) => i !== 3), { problem: 'sequence_gap', at: 5, position: 4 }, /entry 4 is missing/],
    ['a deleted first entry', () => entries.slice(1), { problem: 'sequence_gap', at: 2, position: 1 }, /entry 1 is missing/],
    ['two entries swapped', () => [...entries.slice(0, 3), entries[4]!, entries[3]!, ...entries.slice(5)], { problem: 'sequence_gap', at: 5, position: 4 }, /out of order/],
    ['a deleted last entry', () => entries.slice(0, -1), { problem: 'truncated', at: 8, position: 8 }, /ends at entry 7/],
    ['a last entry replaced and resealed', () => [...entries.slice(0, -1), sealEntry({ ...entries[7]!, actor: 'mallory' }, entries[6])], { problem: 'head_mismatch', at: 8, position: 8 }, /not the one/],
    ['a line that is not JSON', () => entries.map((e, i) => (i === 2 ? '{"seq": 3, "actor": ' : e)), { problem: 'malformed', at: 3, position: 3 }, /line 3/],
  ])('%s is reported with its problem and position', async (_name, tamper, expected, message) => {
    write(tamper());
    const result = await verify();
    expect(result).toMatchObject({ ok: false, ...expected, message: expect.stringMatching(message) });
  });

  it('after a tampering is undone the log verifies again', async () => {
    write(entries.slice(0, -1));
    expect((await verify()).ok).toBe(false);
    writeFileSync(file, original);
    expect((await verify()).ok).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { canonicalJson, GENESIS_HASH, sealEntry, sha256, storedDocumentSliced, verifyAuditChain, type AuditEntry } from '../../../engine/store/audit.ts';

function chain(n: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let i = 0; i < n; i++)
    entries.push(sealEntry({ time: `2026-01-01T00:00:0${i}Z`, actor: 'ana', role: 'publisher', action: 'workflow.publish', workflow: 'orders', version: i + 1 }, entries[i - 1]));
  return entries;
}

describe('audit chain', () => {
  it('links each entry to the one before', () => {
    const entries = chain(3);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(verifyAuditChain(entries)).toEqual({ ok: true, entries: 3, head: entries[2]!.hash });
  });

  it('hashes independently of property order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [1, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[1,{"e":2,"f":1}],"d":2},"b":1}');
  });

  it('stores a document in slices as the same text and hash as canonicalJson at once', () => {
    const nodes = Array.from({ length: 1_000 }, (_, i) => ({ kind: 'respond', id: `n${i}`, config: { z: [i, { b: 'é', a: null }], u: undefined } }));
    const document = { nodes, layout: Object.fromEntries(nodes.map((n, i) => [n.id, { y: i, x: -i }])), id: 'big', note: undefined, list: [1, undefined, 'x'] };
    const work = storedDocumentSliced(document);
    let slices = 0;
    let step = work.next();
    for (; !step.done; step = work.next()) slices++;
    expect(slices).toBeGreaterThanOrEqual(6); // 2,000 members of the top two levels, a few hundred per slice
    expect(step.value.text).toBe(canonicalJson(document));
    expect(step.value.hash).toBe(sha256(canonicalJson(document)));
  });

  it.each([
    ['an edited entry', (e: AuditEntry[]) => [e[0]!, { ...e[1]!, actor: 'mallory' }, e[2]!, e[3]!], 'hash_mismatch', 2],
    ['an edited entry with its hash recomputed', (e: AuditEntry[]) => [e[0]!, { ...sealEntry({ time: e[1]!.time, actor: 'mallory', role: 'publisher', action: 'workflow.publish', workflow: 'orders', version: 2 }, e[0]) }, e[2]!, e[3]!], 'broken_link', 3],
    ['a deleted entry', (e: AuditEntry[]) => [e[0]!, e[2]!, e[3]!], 'sequence_gap', 3],
    ['a deleted first entry', (e: AuditEntry[]) => [e[1]!, e[2]!, e[3]!], 'sequence_gap', 2],
    ['two swapped entries', (e: AuditEntry[]) => [e[0]!, e[2]!, e[1]!, e[3]!], 'sequence_gap', 3],
    ['a malformed line', (e: AuditEntry[]) => [e[0]!, 'garbage' as unknown as AuditEntry, e[2]!], 'malformed', 2],
  ])('detects %s', (_name, tamper, problem, at) => {
    const result = verifyAuditChain(tamper(chain(4)));
    expect(result).toMatchObject({ ok: false, problem, at });
  });
});

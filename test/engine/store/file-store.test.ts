import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { documentHash, verifyAuditChain } from '../../../engine/store/audit.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';
import type { Store } from '../../../engine/store/types.ts';
import { REPO } from '../../helpers/gateway.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function saveDraft(store: Store, note: string) {
  const document = { id: 'orders', note };
  const hash = documentHash(document);
  return store.transact((state) => ({
    state: { ...state, workflows: { ...state.workflows, orders: { id: 'orders', createdAt: 't', createdBy: 'a', draft: { hash, revision: (state.workflows.orders?.draft?.revision ?? 0) + 1, updatedAt: 't', updatedBy: 'a' }, versions: [], active: undefined } } },
    documents: [{ hash, document }],
    entry: { time: new Date().toISOString(), actor: 'a', role: 'editor', action: 'draft.save', workflow: 'orders', documentHash: hash },
    result: hash,
  }));
}

describe('file store', () => {
  it('writes a change, its documents and its audit entry together, and reads them back after reopening', async () => {
    const dir = tempDir();
    const store = await openFileStore(dir);
    const first = await saveDraft(store, 'one');
    const second = await saveDraft(store, 'two');
    expect([first.revision, second.revision]).toEqual([1, 2]);
    await store.close();

    const reopened = await openFileStore(dir);
    const state = await reopened.state();
    expect(state.revision).toBe(2);
    expect(state.workflows.orders!.draft!.revision).toBe(2);
    expect(await reopened.document(second.result)).toEqual({ id: 'orders', note: 'two' });
    const audit = await reopened.audit();
    expect(audit.map((e) => e.seq)).toEqual([1, 2]);
    expect(verifyAuditChain(audit).ok).toBe(true);
  });

  it('records a refusal as an audit entry without changing the state', async () => {
    const store = await openFileStore(tempDir());
    await saveDraft(store, 'one');
    const before = await store.state();
    await store.transact(() => ({ entry: { time: 't', actor: 'v', role: 'viewer', action: 'refused', detail: 'publish: forbidden' }, result: undefined }));
    const after = await store.state();
    expect(after.workflows).toEqual(before.workflows);
    expect(after.revision).toBe(before.revision + 1);
  });

  it('serialises concurrent transactions', async () => {
    const store = await openFileStore(tempDir());
    await Promise.all(Array.from({ length: 20 }, (_, i) => saveDraft(store, `n${i}`)));
    const state = await store.state();
    expect(state.revision).toBe(20);
    expect(state.workflows.orders!.draft!.revision).toBe(20);
    expect(verifyAuditChain(await store.audit()).ok).toBe(true);
  });

  it('leaves nothing behind when a transaction body throws', async () => {
    const store = await openFileStore(tempDir());
    await saveDraft(store, 'one');
    await expect(store.transact(() => { throw new Error('refused by the body'); })).rejects.toThrow('refused by the body');
    expect((await store.state()).revision).toBe(1);
    expect(await store.audit()).toHaveLength(1);
  });

  it('cuts a torn last audit line and redoes a recorded but unapplied commit', async () => {
    const dir = tempDir();
    const store = await openFileStore(dir);
    await saveDraft(store, 'one');
    const { entry } = await saveDraft(store, 'two');
    await store.close();
    // Simulate a crash after pending.json was written and before the audit line landed:
    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'audit.jsonl'), `${lines[0]}\n`);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    writeFileSync(join(dir, 'pending.json'), JSON.stringify({ entry, state }));
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...state, revision: 1 }));
    appendFileSync(join(dir, 'audit.jsonl'), '{"seq":2,"torn');

    const reopened = await openFileStore(dir);
    expect((await reopened.state()).revision).toBe(2);
    const audit = await reopened.audit();
    expect(audit.map((e) => e.seq)).toEqual([1, 2]);
    expect(verifyAuditChain(audit).ok).toBe(true);
  });

  it('loses no acknowledged change when the writing process is killed mid-write', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = tempDir();
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test', 'engine', 'store', 'crash-writer.ts'), dir], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
      let acked = 0;
      let output = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const matches = [...output.matchAll(/ack (\d+)\n/g)];
          if (matches.length > 0) acked = Number(matches[matches.length - 1]![1]);
          if (acked >= 15 + round * 10) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((resolve) => child.once('exit', resolve));
      const store = await openFileStore(dir);
      const state = await store.state();
      expect(state.revision).toBeGreaterThanOrEqual(acked);
      const audit = await store.audit();
      expect(audit.length).toBe(state.revision);
      expect(verifyAuditChain(audit).ok).toBe(true);
      expect(await store.document(state.workflows.orders!.draft!.hash)).toMatchObject({ id: 'orders' });
      await store.close();
    }
  });
});

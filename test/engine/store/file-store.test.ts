import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { storedDocument, verifyAuditChain } from '../../../engine/store/audit.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';
import { REPO } from '../../helpers/gateway.ts';
import type { Store, WorkflowRecord } from '../../../engine/store/types.ts';
import { saveDraft } from './support.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('file store', () => {
  /** crash-writer.ts bundled by esbuild once, run by plain node: tsx would transpile it again in each process. */
  let crashWriter: string;
  let bundleDir: string;
  beforeAll(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), 'sluice-crash-writer-'));
    crashWriter = join(bundleDir, 'crash-writer.mjs');
    await build({ entryPoints: [join(REPO, 'test', 'engine', 'store', 'crash-writer.ts')], outfile: crashWriter, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
  });
  afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

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
      const child = spawn(process.execPath, [crashWriter, dir], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
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
      expect(await store.document(state.workflows.get('orders')!.draft!.hash)).toMatchObject({ id: 'orders' });
      await store.close();
    }
  });

  /** Creates workflow `id` (a draft holding `note`): one change, one record. */
  const create = (store: Store, id: string, note: string) => {
    const stored = storedDocument({ id, note });
    return store.transact((state) => {
      if (note === 'refuse') throw new Error(`${id} refused`);
      const record: WorkflowRecord = { id, createdAt: 't', createdBy: 'a', draft: { hash: stored.hash, revision: (state.workflows.get(id)?.draft?.revision ?? 0) + 1, updatedAt: 't', updatedBy: 'a' }, versions: [], active: undefined };
      return { state: { ...state, workflows: state.workflows.with(id, record) }, documents: [stored], entry: { time: 't', actor: 'a', role: 'editor', action: 'draft.save', workflow: id, documentHash: stored.hash }, result: state.revision };
    });
  };
  const size = (file: string) => statSync(file).size;

  it('writes a change to one workflow among many as one line of the change log: the snapshot is not rewritten', async () => {
    const dir = tempDir();
    const store = await openFileStore(dir);
    await Promise.all(Array.from({ length: 500 }, (_, i) => create(store, `w${i}`, 'first')));
    const snapshot = readFileSync(join(dir, 'state.json'), 'utf8');
    const logBefore = size(join(dir, 'changes.jsonl'));
    await create(store, 'w7', 'second');
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(snapshot);
    const added = readFileSync(join(dir, 'changes.jsonl'), 'utf8').slice(logBefore);
    expect(added.split('\n')).toHaveLength(2); // one line and its newline
    const line = JSON.parse(added) as { entry: { seq: number }; maps: { workflows: { set: Record<string, unknown> } } };
    expect(line.entry.seq).toBe(501);
    expect(Object.keys(line.maps.workflows.set)).toEqual(['w7']);
    expect(Buffer.byteLength(added)).toBeLessThan(1500);
    await store.close();
    const reopened = await openFileStore(dir);
    const state = await reopened.state();
    expect(state.workflows.size).toBe(500);
    expect(state.workflows.get('w7')!.draft!.revision).toBe(2);
    expect(await reopened.verifyAudit()).toMatchObject({ ok: true, entries: 501 });
    await reopened.close();
  });

  it('commits changes waiting together, each its own audit entry in order; a body that refuses leaves the others committed', async () => {
    const dir = tempDir();
    const store = await openFileStore(dir);
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => create(store, `w${i}`, i === 17 ? 'refuse' : 'ok')));
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.message)).toEqual(['w17 refused']);
    const revisions = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.revision] : []));
    expect(revisions).toEqual(Array.from({ length: 39 }, (_, i) => i + 1));
    // each body decided on the state the one before it left
    expect(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.result] : []))).toEqual(Array.from({ length: 39 }, (_, i) => i));
    expect((await store.state()).workflows.size).toBe(39);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 39 });
    await store.close();
  });

  it('folds the change log into a new snapshot once it outgrows it; the store reads the same after', async () => {
    const dir = tempDir();
    const store = await openFileStore(dir, { compactBytes: 20_000 });
    for (let round = 0; round < 6; round++) await Promise.all(Array.from({ length: 20 }, (_, i) => create(store, `w${i}`, `round ${round}`)));
    const state = await store.state();
    expect(state.revision).toBe(120);
    // folded at least once: the snapshot is of a recent revision and the log holds only what follows it
    const snapshot = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { revision: number };
    expect(snapshot.revision).toBeGreaterThan(60);
    const log = readFileSync(join(dir, 'changes.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { entry: { seq: number } }).entry.seq);
    expect(log).toEqual(Array.from({ length: 120 - snapshot.revision }, (_, i) => snapshot.revision + 1 + i));
    // another process reading along from before the fold, and a new one, see the same state
    await store.close();
    const reopened = await openFileStore(dir);
    expect(JSON.parse(JSON.stringify(await reopened.state()))).toEqual(JSON.parse(JSON.stringify(state)));
    expect(await reopened.verifyAudit()).toMatchObject({ ok: true, entries: 120 });
    await reopened.close();
  });

  it('reads along with another process across its folds: each change once, records it left alone kept as they were', async () => {
    const dir = tempDir();
    const writer = await openFileStore(dir, { compactBytes: 5_000 });
    const reader = await openFileStore(dir);
    await create(writer, 'steady', 'once');
    const steady = (await reader.state()).workflows.get('steady');
    for (let i = 0; i < 60; i++) {
      await create(writer, `w${i % 5}`, `change ${i}`);
      const seen = await reader.state();
      expect(seen.revision).toBe(i + 2);
      expect(seen.workflows.get(`w${i % 5}`)!.draft!.revision).toBe(Math.floor(i / 5) + 1);
    }
    // after a fold the reader reads everything again; until then it shares the records it had
    expect((await reader.state()).workflows.get('steady')).toEqual(steady);
    await create(reader, 'from-reader', 'x');
    expect((await writer.state()).workflows.get('from-reader')).toBeDefined();
    expect(await writer.verifyAudit()).toMatchObject({ ok: true, entries: 62 });
    await writer.close();
    await reader.close();
  });

  it('at open, cuts a change line torn by a crash and appends the audit entries a crash kept out of the audit log', async () => {
    const dir = tempDir();
    const store = await openFileStore(dir);
    for (let i = 0; i < 3; i++) await create(store, 'orders', `v${i}`);
    await store.close();
    // the last commit's audit line lost (a crash between the two appends), and a torn change line after it
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(dir, 'audit.jsonl'), `${audit.slice(0, 2).join('\n')}\n`);
    appendFileSync(join(dir, 'changes.jsonl'), '{"entry":{"seq":4,"ti');
    const logBytes = size(join(dir, 'changes.jsonl'));

    const reopened = await openFileStore(dir);
    expect((await reopened.state()).revision).toBe(3);
    expect(size(join(dir, 'changes.jsonl'))).toBeLessThan(logBytes);
    expect(await reopened.verifyAudit()).toMatchObject({ ok: true, entries: 3 });
    expect((await reopened.audit()).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await create(reopened, 'orders', 'v3')).revision).toBe(4);
    expect(await reopened.verifyAudit()).toMatchObject({ ok: true, entries: 4 });
    await reopened.close();
  });

  it('refuses to open a store whose change log was altered in the middle', async () => {
    const dir = tempDir();
    const store = await openFileStore(dir);
    for (let i = 0; i < 3; i++) await create(store, 'orders', `v${i}`);
    await store.close();
    const lines = readFileSync(join(dir, 'changes.jsonl'), 'utf8').split('\n');
    lines[1] = 'not a change';
    writeFileSync(join(dir, 'changes.jsonl'), lines.join('\n'));
    await expect(openFileStore(dir)).rejects.toThrow(/line 2 is not a change/);
    truncateSync(join(dir, 'changes.jsonl'), 0);
  });

  it('keeps documents in one pack, fsynced once per commit: another process reads them, a record torn by a crash is cut at open', async () => {
    const dir = tempDir();
    const writer = await openFileStore(dir);
    const reader = await openFileStore(dir);
    await Promise.all(Array.from({ length: 30 }, (_, i) => create(writer, `w${i}`, `note ${i}`)));
    const hash = (await reader.state()).workflows.get('w29')!.draft!.hash;
    expect(await reader.document(hash)).toEqual({ id: 'w29', note: 'note 29' });
    await writer.close();
    await reader.close();
    const pack = join(dir, 'objects.pack');
    const bytes = size(pack);
    appendFileSync(pack, `${'a'.repeat(64)} 500\n{"id":"torn"`);
    const reopened = await openFileStore(dir);
    expect(size(pack)).toBe(bytes);
    expect(await reopened.document(hash)).toEqual({ id: 'w29', note: 'note 29' });
    await create(reopened, 'after', 'x');
    expect(await reopened.document((await reopened.state()).workflows.get('after')!.draft!.hash)).toEqual({ id: 'after', note: 'x' });
    await reopened.close();
  });

  it('indexes a pack larger than the chunk it is read in: a header across a chunk end, a document larger than a chunk', async () => {
    const dir = tempDir();
    const pack = join(dir, 'objects.pack');
    const CHUNK = 1024 * 1024;
    const notes = new Map<string, string>();
    const put = async (store: Store, id: string, note: string) => {
      notes.set(id, note);
      await create(store, id, note);
    };
    const store = await openFileStore(dir);
    await put(store, 'first', 'x');
    // A record is "<hash> <body bytes>\n<body>\n", its body {"id":"filler","note":"…"}: the filler's
    // record ends 60 bytes before the first chunk's end, so the header after it crosses that end.
    const fillerBody = (note: number) => 25 + note;
    let note = CHUNK - 60 - size(pack) - 67 - fillerBody(0);
    note -= String(fillerBody(note)).length;
    await put(store, 'filler', 'f'.repeat(note));
    expect(size(pack)).toBe(CHUNK - 60);
    await put(store, 'across', 'a');
    for (let i = 0; i < 3; i++) await put(store, `large${i}`, String(i).repeat(1_300_000 + i * 200_003));
    await store.close();
    const readAll = async (reader: Store) => {
      const state = await reader.state();
      for (const [id, text] of notes) expect(await reader.document(state.workflows.get(id)!.draft!.hash)).toEqual({ id, note: text });
    };
    const reopened = await openFileStore(dir);
    await readAll(reopened);
    // what is written next goes where the index says the pack ends
    await put(reopened, 'after', 'written after the reopen');
    await readAll(reopened);
    await reopened.close();
    const again = await openFileStore(dir);
    await readAll(again);
    await again.close();
  });
});

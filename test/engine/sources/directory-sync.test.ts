import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLifecycle } from '../../../engine/admin/commands/workflows.ts';
import { createDirectorySync } from '../../../engine/sources/directory-sync.ts';
import { createWorkflowDirectory, type WorkflowDirectory } from '../../../engine/sources/workflow-directory.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';
import type { Store } from '../../../engine/store/types.ts';

/*
 * The workflows directory remembers, by each file's stamp (inode, size, times), what it applied:
 * a pass reads only the files that changed, and so does the next process on the data dir.
 */

const stamped = (id: string, stamp: string) => ({ id, name: id, route: { methods: ['GET'], path: `/${id}` }, nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { stamp } } }], edges: [] });

const dirs: string[] = [];
const stores: Store[] = [];
const syncs: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const sync of syncs.splice(0)) await sync.close(); // what it remembers is written before the folder goes
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory whose reads are counted: the files it read (returned with their text) each pass. */
function counted(directory: WorkflowDirectory) {
  const reads: string[][] = [];
  const spy: WorkflowDirectory = {
    ...directory,
    read: (async (known?: (file: string, stamp: string) => boolean) => {
      const files = await (known === undefined ? directory.read() : directory.read(known));
      reads.push(files.filter((f) => 'text' in f && f.text !== undefined).map((f) => f.file));
      return files;
    }) as WorkflowDirectory['read'],
  };
  return { spy, reads };
}

async function open(dataDir: string, settledMs = 0) {
  const store = await openFileStore(join(dataDir, 'store'));
  stores.push(store);
  const lifecycle = createLifecycle({ store, fourEyes: false, contractGate: false, prepare: async () => [] }); // no catalog stored: no contract to compare
  const { spy, reads } = counted(createWorkflowDirectory(join(dataDir, 'workflows')));
  const sync = createDirectorySync({ directory: spy, lifecycle, store, logger: pino({ level: process.env.DEBUG_SYNC ? 'debug' : 'silent' }), remember: join(dataDir, 'cache', 'workflow-files.json'), settledMs });
  syncs.push(sync);
  return { store, sync, reads };
}

describe('workflows directory: what a pass reads', () => {
  it('reads only the files that changed, in this process and the next one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-files-'));
    dirs.push(dataDir);
    const file = (id: string) => join(dataDir, 'workflows', `${id}.json`);
    const first = await open(dataDir);
    await first.sync.sync(); // makes the directory
    for (let i = 0; i < 20; i++) writeFileSync(file(`w${i}`), JSON.stringify(stamped(`w${i}`, 'one')));
    await first.sync.sync();
    expect(first.reads.at(-1)).toHaveLength(20);
    const published = (await first.store.state()).revision;

    writeFileSync(file('w3'), JSON.stringify(stamped('w3', 'second'))); // another size: its stamp differs whatever the clock's grain
    await first.sync.sync();
    expect(first.reads.at(-1)).toEqual(['w3.json']);
    expect((await first.store.state()).workflows.get('w3')!.active).toBe(2);
    // a stop waits for the write: no temporary file left behind, the whole file in place
    await first.sync.close();
    expect(readdirSync(join(dataDir, 'cache'))).toEqual(['workflow-files.json']);
    await first.store.close();

    // the next process on the data dir: nothing read, nothing published again
    const remembered = JSON.parse(readFileSync(join(dataDir, 'cache', 'workflow-files.json'), 'utf8')) as Record<string, { id: string }>;
    expect(Object.keys(remembered)).toHaveLength(20);
    const second = await open(dataDir);
    const before = (await second.store.state()).revision;
    expect(before).toBeGreaterThan(published);
    await second.sync.sync();
    expect(second.reads.at(-1)).toEqual([]);
    expect((await second.store.state()).revision).toBe(before);

    // a file changed while no process ran is read and published; one removed stops serving
    writeFileSync(file('w5'), JSON.stringify(stamped('w5', 'second')));
    rmSync(file('w6'));
    await second.sync.sync();
    expect(second.reads.at(-1)).toEqual(['w5.json']);
    const state = await second.store.state();
    expect(state.workflows.get('w5')!.active).toBe(2);
    expect(state.workflows.get('w6')!.active).toBeUndefined();
  });

  it('remembers the files too recent to remember at the pass that read them once they settle, by a pass of its own', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-files-'));
    dirs.push(dataDir);
    const first = await open(dataDir, 400);
    await first.sync.sync(); // makes the directory
    for (let i = 0; i < 5; i++) writeFileSync(join(dataDir, 'workflows', `w${i}.json`), JSON.stringify(stamped(`w${i}`, 'one')));
    await first.sync.sync();
    expect(first.reads.at(-1)).toHaveLength(5);
    const rememberedFile = join(dataDir, 'cache', 'workflow-files.json');
    const remembered = () => Object.keys(JSON.parse(readFileSync(rememberedFile, 'utf8')) as object).sort();
    // written just now: not remembered by that pass, but by one of its own once they have settled
    await vi.waitFor(() => expect(remembered()).toEqual(['w0.json', 'w1.json', 'w2.json', 'w3.json', 'w4.json']), { timeout: 10_000, interval: 100 });
    expect(first.reads.at(-1)).toHaveLength(5); // read again to be sure of them, nothing published again
    const revision = (await first.store.state()).revision;
    await first.sync.close();
    await first.store.close();

    const second = await open(dataDir, 400);
    await second.sync.sync();
    expect(second.reads.at(-1)).toEqual([]);
    expect((await second.store.state()).revision).toBe(revision);
    await second.sync.close();
  });

  it('reads a remembered file after all when the store does not have it (a new store, the same files)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-files-'));
    dirs.push(dataDir);
    const first = await open(dataDir);
    await first.sync.sync();
    writeFileSync(join(dataDir, 'workflows', 'a.json'), JSON.stringify(stamped('a', 'one')));
    await first.sync.sync();
    await first.store.close();
    rmSync(join(dataDir, 'store'), { recursive: true });

    const second = await open(dataDir);
    await second.sync.sync();
    expect(second.reads.at(-1)).toEqual([]); // known by its stamp …
    expect((await second.store.state()).workflows.get('a')!.active).toBe(1); // … and published from the file read after all
  });

  it('reads a file again while it changed too recently for its stamp to tell (a rewrite of the same size within the clock\'s grain)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-files-'));
    dirs.push(dataDir);
    const pass = await open(dataDir, 60_000);
    await pass.sync.sync();
    writeFileSync(join(dataDir, 'workflows', 'a.json'), JSON.stringify(stamped('a', 'one')));
    await pass.sync.sync();
    writeFileSync(join(dataDir, 'workflows', 'a.json'), JSON.stringify(stamped('a', 'two'))); // the same size, maybe the same times
    await pass.sync.sync();
    expect(pass.reads.at(-1)).toEqual(['a.json']);
    expect((await pass.store.state()).workflows.get('a')!.active).toBe(2);
  });
});

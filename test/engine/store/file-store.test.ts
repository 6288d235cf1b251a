import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../engine/store/audit.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';
import { REPO } from '../../helpers/gateway.ts';
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
      expect(await store.document(state.workflows.orders!.draft!.hash)).toMatchObject({ id: 'orders' });
      await store.close();
    }
  });
});

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedDocument } from '../../../engine/store/audit.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';
import type { Store } from '../../../engine/store/types.ts';
import { spawnSluice } from '../../helpers/cli.ts';
import { REPO } from '../../helpers/gateway.ts';
import { ADMIN_TOKENS, adminOf, stamped, stampOf, type Admin } from './support.ts';

/*
 * Crash safety of the whole process: `sluice serve` as a child process takes admin changes in a
 * loop; it is killed with SIGKILL while a change is in flight, restarted on the same data
 * directory, and must have kept every change it acknowledged, with an intact audit chain, and
 * serve the active version. Two rounds, so the second recovery starts from a recovered store.
 */

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

async function serve(dataDir: string): Promise<Served> {
  const child = await spawnSluice(['serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SLUICE_DATA: dataDir, SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_DEMO: 'off', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`sluice did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        if (!line.includes('"sluice listening"')) continue;
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url, exited });
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`sluice exited (${code}) before listening: ${stderr}`)));
  });
}

/** What the test knows the gateway acknowledged. */
interface Acknowledged {
  draft: { revision: number; stamp: string };
  /** version -> stamp */
  versions: Map<number, string>;
  active: number | undefined;
  /** The change in flight when the process was killed; it may or may not have been committed. */
  inFlight: { kind: 'draft' | 'publish' | 'rollback'; stamp?: string; version?: number } | undefined;
}

describe('SIGKILL mid-stream, restart on the same data directory', () => {
  let dataDir: string;
  let running: Served | undefined;
  const known: Acknowledged = { draft: { revision: 0, stamp: '' }, versions: new Map(), active: undefined, inFlight: undefined };
  let counter = 0;
  let steps = 0;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
    // no example workflows (they need the demo upstream): only what the admin API creates
    mkdirSync(join(dataDir, 'workflows'));
    writeFileSync(join(dataDir, 'errors.json'), readFileSync(join(REPO, 'examples', 'errors.json')));
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** One admin change chosen by the step number; records it once acknowledged. */
  async function step(admin: Admin): Promise<void> {
    const i = steps++;
    if (i % 4 === 1 && known.versions.size > 0 && known.draft.stamp !== known.versions.get(known.active ?? 0)) {
      known.inFlight = { kind: 'publish', version: Math.max(0, ...known.versions.keys()) + 1, stamp: known.draft.stamp };
      const answer = await admin('publisher', 'POST', '/workflows/crash/publish');
      if (answer.status !== 200) throw new Error(`publish: ${answer.status} ${JSON.stringify(answer.body)}`);
      known.versions.set(answer.body.version, known.draft.stamp);
      known.active = answer.body.version;
    } else if (i % 4 === 3 && known.versions.size > 1) {
      const target = [...known.versions.keys()].filter((v) => v !== known.active)[i % (known.versions.size - 1)]!;
      known.inFlight = { kind: 'rollback', version: target };
      const answer = await admin('publisher', 'POST', '/workflows/crash/rollback', { version: target });
      if (answer.status !== 200) throw new Error(`rollback: ${answer.status} ${JSON.stringify(answer.body)}`);
      known.active = target;
    } else {
      const stamp = `s${++counter}`;
      known.inFlight = { kind: 'draft', stamp };
      // now and then a large document, so a kill can land in the middle of writing it
      const document = stamped('crash', '/crash', stamp);
      (document.nodes[0]!.config as { body: Record<string, string> }).body.pad = 'x'.repeat(i % 5 === 0 ? 200_000 : 10);
      const answer = known.draft.revision === 0 ? await admin('editor', 'POST', '/workflows', { document }) : await admin('editor', 'PUT', '/workflows/crash/draft', { document, baseRevision: known.draft.revision });
      if (answer.status >= 300) throw new Error(`draft: ${answer.status} ${JSON.stringify(answer.body)}`);
      known.draft = { revision: known.draft.revision === 0 ? 1 : answer.body.draft.revision, stamp };
      if (i === 0) {
        // publish the first draft at once, so something serves from the start
        const published = await admin('publisher', 'POST', '/workflows/crash/publish');
        if (published.status !== 200) throw new Error(`publish: ${published.status} ${JSON.stringify(published.body)}`);
        known.versions.set(published.body.version, stamp);
        known.active = published.body.version;
      }
    }
    known.inFlight = undefined;
  }

  /** Runs changes until `acks` were acknowledged, then kills the process while the next one is in flight. */
  async function changeThenKill(served: Served, acks: number, killAfterMs: number) {
    const admin = adminOf(served.url);
    for (let i = 0; i < acks; i++) await step(admin);
    const next = step(admin).catch(() => undefined); // may fail: the process dies under it
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    served.child.kill('SIGKILL');
    await served.exited;
    await next;
  }

  async function expectRecovered(served: Served) {
    const admin = adminOf(served.url);
    const workflow = (await admin('viewer', 'GET', '/workflows/crash')).body;
    const inFlight = known.inFlight;

    // the draft: the acknowledged revision, or one more if the save in flight was committed
    const draftDoc = workflow.draft.document as { nodes: Array<{ config: { body: { v: string } } }> };
    if (workflow.draft.revision === known.draft.revision) expect(draftDoc.nodes[0]!.config.body.v).toBe(known.draft.stamp);
    else {
      expect(inFlight?.kind).toBe('draft');
      expect(workflow.draft.revision).toBe(known.draft.revision + 1);
      expect(draftDoc.nodes[0]!.config.body.v).toBe(inFlight!.stamp);
      known.draft = { revision: workflow.draft.revision, stamp: inFlight!.stamp! };
    }

    // every acknowledged version, with its own document
    const versions = (await admin('viewer', 'GET', '/workflows/crash/versions')).body as { active: number; versions: Array<{ version: number }> };
    for (const [version, stamp] of known.versions) {
      const one = await admin('viewer', 'GET', `/workflows/crash/versions/${version}`);
      expect(one.status, `version ${version}`).toBe(200);
      expect(one.body.document.nodes[0].config.body.v, `version ${version}`).toBe(stamp);
    }
    const extra = versions.versions.filter((v) => !known.versions.has(v.version));
    if (extra.length > 0) {
      expect(inFlight?.kind).toBe('publish');
      expect(extra.map((v) => v.version)).toEqual([inFlight!.version]);
      known.versions.set(inFlight!.version!, inFlight!.stamp!);
    }

    // the active version: the last acknowledged, or the one the change in flight made active
    if (versions.active !== known.active) {
      expect(['publish', 'rollback']).toContain(inFlight?.kind);
      expect(versions.active).toBe(inFlight!.version);
      known.active = versions.active;
    }
    expect(await stampOf(`${served.url}/crash`)).toBe(known.versions.get(known.active!));

    const status = (await admin('viewer', 'GET', '/status')).body;
    expect(status.appliedRevision).toBe(status.revision);
    expect(status.workflows).toEqual([{ workflow: 'crash', version: known.active, route: '/crash', state: 'active' }]);
    expect((await admin('auditor', 'GET', '/audit/verify')).body).toEqual({ ok: true, entries: status.revision, head: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const store = join(dataDir, 'store');
    const leftovers = [...readdirSync(store), ...readdirSync(join(store, 'objects'))].filter((name) => name.endsWith('.tmp') || name === 'pending.json');
    expect(leftovers).toEqual([]);
    known.inFlight = undefined;
  }

  it('keeps every acknowledged change across two kills, verifies its audit chain and serves the active version', async () => {
    running = await serve(dataDir);
    await changeThenKill(running, 25, 1); // the change in flight is a publish
    running = await serve(dataDir);
    await expectRecovered(running);

    await changeThenKill(running, 17, 2); // the change in flight is a rollback
    running = await serve(dataDir);
    await expectRecovered(running);
    expect(known.versions.size).toBeGreaterThanOrEqual(6);

    // and it goes on taking changes
    const admin = adminOf(running.url);
    await step(admin);
    await step(admin);
    expect(await stampOf(`${running.url}/crash`)).toBe(known.versions.get(known.active!));
    running.child.kill('SIGTERM');
    await running.exited;
    // the bundle keeps the graphs it validated, so each restart above served its stored versions from them
    // (a line a kill cut short is refused and the version validated again): the active stamps checked hold
    const [graphFile, ...others] = readdirSync(join(dataDir, 'cache')).filter((name) => name.startsWith('validated-graphs-'));
    expect(others).toEqual([]);
    const graphs = readFileSync(join(dataDir, 'cache', graphFile!), 'utf8').trim().split('\n');
    expect(graphs.length).toBeGreaterThanOrEqual(known.versions.size - 1);
  }, 60_000);
});

describe('a write that fails half-way (not a crash: the process lives on)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const save = (store: Store, note: string) => {
    const document = { id: 'w', note };
    const stored = storedDocument(document);
  const { hash } = stored;
    return store.transact((state) => ({
      state: { ...state, workflows: state.workflows.with('w', { id: 'w', createdAt: 't', createdBy: 'a', draft: { hash, revision: (state.workflows.get('w')?.draft?.revision ?? 0) + 1, updatedAt: 't', updatedBy: 'a' }, versions: [], active: undefined }) },
      documents: [stored],
      entry: { time: new Date().toISOString(), actor: 'a', role: 'editor', action: 'draft.save', workflow: 'w', documentHash: hash },
      result: undefined,
    }));
  };

  it('stops the store from taking changes that would fork the audit chain; reopening recovers the recorded change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-halfway-'));
    dirs.push(dir);
    let auditFails = false;
    const store = await openFileStore(dir, {
      beforeAudit: async () => {
        if (auditFails) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    });
    await save(store, 'one');
    // the audit log cannot be appended: the change is in the change log (committed), its entry not in the audit log
    auditFails = true;
    await expect(save(store, 'two')).rejects.toThrow(/no space left/);
    auditFails = false;
    // the disk is fine again, but this process no longer knows the log's head
    await expect(save(store, 'three')).rejects.toThrow(/restart to recover/);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 1 });
    await store.close();

    const reopened = await openFileStore(dir);
    const state = await reopened.state();
    expect(state.revision).toBe(2);
    expect(state.workflows.get('w')!.draft!.revision).toBe(2);
    expect(await reopened.verifyAudit()).toMatchObject({ ok: true, entries: 2 });
    await save(reopened, 'three');
    expect(await reopened.verifyAudit()).toMatchObject({ ok: true, entries: 3 });
    await reopened.close();
  });
});

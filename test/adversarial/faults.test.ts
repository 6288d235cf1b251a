/**
 * A data directory that fills up or turns read-only under a running gateway: changes are
 * refused with a clear 503, nothing half-written, the active version keeps serving, and
 * changes work again once there is room. The data directory is a small tmpfs the test mounts
 * (root only; elsewhere the test is skipped with a loud message, never in CI).
 * Crashes mid-publish (kill -9) are in test/engine/admin/crash.test.ts, publish and rollback
 * storms under load in test/engine/admin/load.test.ts, Redis faults in the Redis store tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../engine/config.ts';
import { startSluice, type Sluice } from '../../engine/server.ts';
import { REPO } from '../helpers/gateway.ts';
import { ADMIN_TOKENS, adminCall } from '../engine/admin/support.ts';
import { workflow } from '../helpers/workflow.ts';
import { adversarialGroup } from './support.ts';
import pino from 'pino';

const group = adversarialGroup('faults');

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'sluice-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const mountable = canMount();
if (!mountable && process.env.CI !== 'true') console.warn('\n*** SKIPPED: the disk-full and read-only data directory tests need root to mount a tmpfs ***\n');

it('can mount a small file system for the disk-full tests where they must run', () => {
  if (process.env.CI === 'true') expect(mountable, 'CI runs as root and must be able to mount a tmpfs').toBe(true);
});

describe.runIf(mountable)('a data directory that fills up or turns read-only', () => {
  let mountPoint: string;
  let sluice: Sluice;
  const steady = (v: number) => workflow('steady', { path: '/steady' }, [{ id: 'answer', kind: 'respond', config: { status: 200, body: { version: v } } }]);
  const served = async () => {
    const res = await fetch(`${sluice.url}/steady`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { version: number }).version;
  };
  const fill = () => {
    // one filler file as large as the file system lets it grow
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(mountPoint, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
    } catch {
      // dd stops with ENOSPC: the disk is full, which is the point
    }
  };

  beforeAll(async () => {
    mountPoint = mkdtempSync(join(tmpdir(), 'sluice-small-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
    mkdirSync(join(mountPoint, 'workflows'));
    writeFileSync(join(mountPoint, 'workflows', 'steady.json'), JSON.stringify(steady(1)));
    writeFileSync(join(mountPoint, 'errors.json'), readFileSync(join(REPO, 'examples', 'errors.json')));
    // evidence off: its database, open for writing, would keep `mount -o remount,ro` from turning the disk read-only (a test of the workflow store)
    const settings = loadSettings({ PORT: '0', HOST: '127.0.0.1', SLUICE_DATA: mountPoint, SLUICE_DEMO: 'off', LOG_LEVEL: 'warn', SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_EVIDENCE: 'off' });
    sluice = await startSluice(settings, { logger: pino({ level: 'silent' }) });
    expect(await served()).toBe(1);
  });

  afterAll(async () => {
    await sluice?.close();
    try {
      execFileSync('umount', [mountPoint]);
    } finally {
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  const publish = async (v: number) => {
    const current = await adminCall(sluice.url, 'admin', 'GET', '/workflows/steady');
    const saved = await adminCall(sluice.url, 'admin', 'PUT', '/workflows/steady/draft', { document: steady(v), baseRevision: current.body.draft?.revision ?? 0 });
    if (saved.status !== 200) return saved;
    return adminCall(sluice.url, 'admin', 'POST', '/workflows/steady/publish', {});
  };
  const expectStoreUnavailable = (answer: { status: number; body: Record<string, any>; headers: Headers }, why: RegExp) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body.type).toMatch(/\/store-unavailable$/);
    expect(answer.body.detail).toMatch(why);
    group.counted();
  };

  it('a full disk: the change is refused with 503 store-unavailable, the active version keeps serving', async () => {
    const before = await sluice.store.state();
    fill();
    expectStoreUnavailable(await publish(2), /disk is full/);
    expect(await served()).toBe(1);
    expect((await sluice.store.state()).revision).toBe(before.revision);
    expect(((await sluice.store.verifyAudit()) as { ok: boolean }).ok).toBe(true);
  });

  it('once there is room again, changes go through', async () => {
    rmSync(join(mountPoint, 'filler'));
    const published = await publish(2);
    expect(published.status, JSON.stringify(published.body)).toBe(200);
    await expect.poll(served).toBe(2);
    expect(((await sluice.store.verifyAudit()) as { ok: boolean }).ok).toBe(true);
    group.counted();
  });

  it('a read-only file system: 503 store-unavailable, the active version keeps serving', async () => {
    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    try {
      expectStoreUnavailable(await publish(3), /read-only/);
      expect(await served()).toBe(2);
      const rollback = await adminCall(sluice.url, 'admin', 'POST', '/workflows/steady/rollback', { version: 1 });
      expectStoreUnavailable(rollback, /read-only/);
      expect(await served()).toBe(2);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
    }
    expect(((await sluice.store.verifyAudit()) as { ok: boolean }).ok).toBe(true);
  });
});

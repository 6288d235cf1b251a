/**
 * Floods of distinct rate-limit keys against the in-memory store: the keys of a short window
 * expire by that window whatever other nodes count in, the store holds at most
 * SLUICE_RATE_LIMIT_MAX_KEYS (evictions counted in /metrics) and so a bounded heap, and a flood
 * through one node leaves the counters of another node alone.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.ts';
import { portNode, startGateway, workflow } from '../helpers/workflow.ts';
import { adversarialGroup } from './support.ts';

const group = adversarialGroup('rate-limit-memory');

const CAP = 1_000;
const HOUR = 3_600_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A workflow answering 200 through one rate-limit node. */
const limited = (id: string, config: Record<string, unknown>) =>
  workflow(id, { path: `/${id}` }, [{ id: 'limit', kind: 'rate-limit', config }, portNode('ok')], [['limit', 'ok', 'ok']], 'limit');

describe('flooding the in-memory rate limits with distinct keys', () => {
  let gw: TestGateway;

  /** A metric's value without labels from /metrics (0 when absent). */
  const metric = async (name: string) => {
    const text = await (await fetch(gw.sluice.metricsUrl!)).text();
    const line = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
    expect(line, `${name} in /metrics`).not.toBeNull();
    return Number(line![1]);
  };

  /** Sends `count` requests to `path`, each with its own value of `header`, 20 at a time; all must pass. */
  const flood = async (path: string, header: string, count: number, tag: string) => {
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < count) {
          const res = await gw.fetch(path, { headers: { [header]: `${tag}-${next++}` } });
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  };

  beforeAll(async () => {
    gw = await startGateway(
      [
        limited('hourly', { key: 'global', limit: 1_000, window: '1h' }),
        limited('burst', { key: 'header', name: 'x-client', limit: 5, window: '200ms' }),
        limited('tenant', { key: 'header', name: 'x-tenant', limit: 3, window: '1h' }),
        limited('flood', { key: 'header', name: 'x-flood', limit: 5, window: '1h' }),
      ],
      { settings: { SLUICE_RATE_LIMIT_MAX_KEYS: String(CAP), SLUICE_METRICS_PORT: '0', LOG_LEVEL: 'warn' } },
    );
  });
  afterAll(() => gw?.close());

  it('drops the keys of a 200 ms node two windows after their last request, though another node counts by the hour', async () => {
    const before = await metric('sluice_rate_limit_keys');
    expect((await gw.fetch('/hourly')).status).toBe(200);
    await flood('/burst', 'x-client', 500, 'client');
    // the hour's key stays; the 500 are gone within two 200 ms windows and a sweep (1 s)
    const until = Date.now() + 15_000;
    let keys = await metric('sluice_rate_limit_keys');
    while (keys !== before + 1 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      keys = await metric('sluice_rate_limit_keys');
    }
    expect(keys).toBe(before + 1);
    expect(await metric('sluice_rate_limit_evictions_total')).toBe(0);
    group.counted();
  });

  it('holds at most SLUICE_RATE_LIMIT_MAX_KEYS under a flood of header values, counts the evictions, and keeps another node\'s counters', async () => {
    for (let i = 0; i < 3; i++) expect((await gw.fetch('/tenant', { headers: { 'x-tenant': 'victim' } })).status).toBe(200);
    await group.refused(await gw.fetch('/tenant', { headers: { 'x-tenant': 'victim' } }), 429, 'rate-limited');
    const before = await metric('sluice_rate_limit_keys');
    await flood('/flood', 'x-flood', 3 * CAP, 'flood');
    expect(await metric('sluice_rate_limit_keys')).toBe(CAP);
    expect(await metric('sluice_rate_limit_evictions_total')).toBe(before + 3 * CAP - CAP);
    // the flood evicted only its own node's keys: the victim is still at its limit
    await group.refused(await gw.fetch('/tenant', { headers: { 'x-tenant': 'victim' } }), 429, 'rate-limited');
  });

  it('keeps the heap bounded when 272,000 distinct keys arrive in a 1 h window (reported: +90 MB)', () => {
    const store = gw.sluice.rateLimits;
    gc();
    const before = process.memoryUsage().heapUsed;
    // the keys the flood node counts a header value by, straight into the gateway's own store
    for (let i = 0; i < 272_000; i++) store.hit(`flood:limit:k:heap-${i}`, 5, HOUR, 'deny', 'flood:limit:');
    gc();
    const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
    console.log(`heap grown by ${grownMb.toFixed(1)} MB for 272,000 keys`);
    expect(grownMb).toBeLessThan(10);
    group.counted();
  });
});

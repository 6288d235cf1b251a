/**
 * The admin boundary: whose address a request comes from (behind a proxy and without one), the
 * admin lockout per client, prefixes a workflow may not take, the audit log under a flood of
 * refused attempts, and the demo issuer staying off unless asked for.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../engine/config.ts';
import { startSluice, type Sluice } from '../../engine/server.ts';
import { openFileStore } from '../../engine/store/file-store.ts';
import { reservedPrefixOf } from '../../shared/compile/index.ts';
import { sluice as sluiceCli } from '../helpers/cli.ts';
import { REPO, type TestGateway } from '../helpers/gateway.ts';
import { startProcessGateway } from '../helpers/process-gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { ADMIN_TOKENS, adminCall, PEOPLE, startAdminGateway } from '../engine/admin/support.ts';
import { portNode, startGateway, workflow } from '../helpers/workflow.ts';
import { adversarialGroup } from './support.ts';

const group = adversarialGroup('admin-boundary');

const LIMIT = 3;
const forwarded = (xff: string) => ({ headers: { 'x-forwarded-for': xff } });
const wrongToken = (i: number) => `Bearer wrong-token-${i}-0123456789abcdef`;
const adminBearer = `Bearer ${PEOPLE.admin.token}`;

/** GET /admin/api/whoami with an Authorization value, as a client behind `xff` (X-Forwarded-For). */
async function whoami(url: string, authorization: string, xff: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/admin/api/whoami`, { headers: { authorization, 'x-forwarded-for': xff } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The workflows every client-address case calls: a limit by `ip`, and a proxy to an echoing upstream. */
function clientWorkflows() {
  return [
    workflow('by-ip', { path: '/by-ip' }, [{ id: 'limit', kind: 'rate-limit', config: { limit: LIMIT, window: '1h', key: 'ip' } }, portNode('ok')], [['limit', 'ok', 'ok']]),
    workflow('echo', { path: '/echo/*' }, [{ id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }]),
  ];
}

async function startClientGateway(upstream: TestUpstream, trust?: string): Promise<TestGateway> {
  return startGateway(clientWorkflows(), {
    env: { UPSTREAM: upstream.url },
    settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_ADMIN_MAX_FAILURES: '10', ...(trust === undefined ? {} : { SLUICE_TRUST_PROXY: trust }) },
  });
}

/** The `client` of the request log line of the last request to `path`. */
async function loggedClient(gw: TestGateway, traceId: string): Promise<unknown> {
  for (let i = 0; i < 100; i++) {
    const line = gw.logs.find((l) => l.msg === 'request' && l.traceId === traceId);
    if (line) return line.client;
    await new Promise((resolve) => setTimeout(resolve, 10)); // lines are written once per turn of the event loop
  }
  throw new Error(`no request line for trace ${traceId}`);
}
const traceparent = (n: number) => `00-${n.toString(16).padStart(32, 'a')}-${'b'.repeat(16)}-01`;
const traceOf = (n: number) => n.toString(16).padStart(32, 'a');

describe.each([
  ['one hop', '1'],
  ['the loopback range', '127.0.0.1/8'],
  ['a named range', 'loopback'],
])('behind a trusted proxy (SLUICE_TRUST_PROXY as %s)', (_name, trust) => {
  let gw: TestGateway;
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startClientGateway(upstream, trust);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('ten wrong tokens from one forwarded client lock that client out, not an admin coming through the same proxy', async () => {
    for (let i = 0; i < 10; i++) expect((await whoami(gw.url, wrongToken(i), '203.0.113.66')).status).toBe(401);
    const attacker = await whoami(gw.url, adminBearer, '203.0.113.66');
    expect(attacker.status).toBe(429);
    expect(attacker.body.type).toMatch(/\/too-many-attempts$/);
    const admin = await whoami(gw.url, adminBearer, '198.51.100.7');
    expect(admin.status, JSON.stringify(admin.body)).toBe(200);
    expect(admin.body).toEqual({ name: 'ada', role: 'admin' });
    // /metrics on the main port shares the lockout: the admin reads it, the attacker does not
    expect((await gw.fetch('/metrics', { headers: { authorization: adminBearer, 'x-forwarded-for': '198.51.100.7' } })).status).toBe(200);
    expect((await gw.fetch('/metrics', { headers: { authorization: adminBearer, 'x-forwarded-for': '203.0.113.66' } })).status).toBe(429);
    group.counted();
  });

  it('a spoofed leftmost X-Forwarded-For entry never picks the `ip` rate-limit key: the proxy\'s entry does', async () => {
    for (let i = 1; i <= LIMIT; i++) expect((await gw.fetch('/by-ip', forwarded(`10.9.9.${i}, 203.0.113.5`))).status).toBe(200);
    await group.refused(await gw.fetch('/by-ip', forwarded('10.9.9.99, 203.0.113.5')), 429, 'rate-limited');
    // another client through the same proxy has its own counter
    expect((await gw.fetch('/by-ip', forwarded('203.0.113.6'))).status).toBe(200);
  });

  it('the upstream gets the trusted chain (client first, this hop\'s peer last), never the spoofed entry; the request log names the client', async () => {
    const res = await gw.fetch('/echo/chain', { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7', traceparent: traceparent(1) } });
    expect(res.status).toBe(200);
    const received = upstream.received.find((r) => r.url === '/echo/chain')!;
    expect(received.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(await loggedClient(gw, traceOf(1))).toBe('203.0.113.7');
    group.counted();
  });
});

describe('trust off (the default): a forged X-Forwarded-For changes nothing', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startClientGateway(upstream);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('the lockout counts the socket address whatever the header says', async () => {
    for (let i = 0; i < 10; i++) expect((await whoami(gw.url, wrongToken(i), `198.51.100.${i}`)).status).toBe(401);
    const locked = await whoami(gw.url, adminBearer, '198.51.100.200');
    expect(locked.status).toBe(429);
    group.counted();
  });

  it('the `ip` rate-limit key is the socket address whatever the header says', async () => {
    for (let i = 1; i <= LIMIT; i++) expect((await gw.fetch('/by-ip', forwarded(`198.51.100.${i}`))).status).toBe(200);
    await group.refused(await gw.fetch('/by-ip', forwarded('198.51.100.99')), 429, 'rate-limited');
  });

  it('the logged address and the upstream X-Forwarded-For are the socket address', async () => {
    const res = await gw.fetch('/echo/forged', { headers: { 'x-forwarded-for': '6.6.6.6', traceparent: traceparent(2) } });
    expect(res.status).toBe(200);
    expect(upstream.received.find((r) => r.url === '/echo/forged')!.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(await loggedClient(gw, traceOf(2))).toBe('127.0.0.1');
    group.counted();
  });
});

describe('SLUICE_TRUST_PROXY', () => {
  it.each([
    ['off', { mode: 'off' }],
    ['0', { mode: 'off' }],
    ['2', { mode: 'hops', hops: 2 }],
    ['loopback, 10.0.0.0/8', { mode: 'addresses', addresses: ['loopback', '10.0.0.0/8'] }],
    ['uniquelocal,::1', { mode: 'addresses', addresses: ['uniquelocal', '::1'] }],
  ])('%s is accepted', (text, expected) => {
    expect(loadSettings({ SLUICE_TRUST_PROXY: text }).trustProxy).toEqual(expected);
    group.counted();
  });

  it.each([
    ['on', /no longer a switch.*number of trusted proxy hops.*CIDRs/],
    ['true', /no longer a switch/],
    ['10.0.0.0/33', /SLUICE_TRUST_PROXY.*10\.0\.0\.0\/33/],
    ['everything', /SLUICE_TRUST_PROXY.*everything/],
    ['-1', /SLUICE_TRUST_PROXY/],
  ])('%s is refused with a message naming the syntax', (text, message) => {
    expect(() => loadSettings({ SLUICE_TRUST_PROXY: text })).toThrow(message);
    group.counted();
  });

  it('docker-compose.yml\'s gateways load: one trusted hop (the nginx in front), demo mode off', () => {
    const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { environment?: Record<string, string> }> };
    const settings = loadSettings({ ...compose.services['gateway-1']!.environment, SLUICE_ADMIN_TOKENS: 'a:admin:0123456789abcdef0123' });
    expect(settings.trustProxy).toEqual({ mode: 'hops', hops: 1 });
    expect(settings.demo).toBe(false);
    group.counted();
  });
});

describe('reserved prefixes', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startAdminGateway();
  });
  afterAll(() => gw?.close());

  const doc = (path: string) => ({ id: 'squatter', name: 'Squatter', route: { methods: ['GET'], path }, nodes: [{ id: 'a', kind: 'respond', config: { status: 200 } }] });

  it.each(['/Admin/api/workflows', '/ADMIN', '/aDmIn/api/x', '/Editor/', '/HEALTHZ', '/Metrics/x', '/.Well-Known/sluice/x', '/.well-known/SLUICE/demo-jwks.json', '/%61dmin/api/x', '/%2561dmin'])('a workflow at %s is refused at validate naming route.path', async (path) => {
    const checked = await adminCall(gw.url, 'admin', 'POST', '/workflows/squatter/validate', { document: doc(path) });
    expect(checked.status).toBe(200);
    expect(checked.body.ok).toBe(false);
    expect((checked.body.problems as Array<{ field?: string }>).map((p) => p.field)).toContain('route.path');
    group.counted();
  });

  it('the check itself ignores case; near misses stay allowed', () => {
    expect(reservedPrefixOf('/Admin/api/workflows')).toBe('/admin');
    expect(reservedPrefixOf('/.WELL-KNOWN/Sluice')).toBe('/.well-known/sluice');
    expect(reservedPrefixOf('/%61dmin/x')).toBe('/admin');
    expect(reservedPrefixOf('/%2561dmin')).toBe('/admin');
    expect(reservedPrefixOf('/administrators')).toBeUndefined();
    expect(reservedPrefixOf('/api/admin')).toBeUndefined();
    group.counted();
  });

  it('an encoded or differently cased control path never reaches the admin API: 404 problem from the gateway', async () => {
    for (const path of ['/%61dmin/api/whoami', '/ADMIN/api/whoami']) {
      const res = await gw.fetch(path, { headers: { authorization: `Bearer ${PEOPLE.admin.token}` } });
      await group.refused(res, 404, 'not-found');
    }
  });
});

describe('refused attempts in the audit log', () => {
  let gw: TestGateway;
  let dataDir: string;
  let closed = false;
  beforeAll(async () => {
    gw = await startAdminGateway();
    dataDir = gw.dataDir;
  });
  afterAll(async () => {
    if (!closed) await gw?.close();
    else rmSync(dataDir, { recursive: true, force: true });
  });

  it('300 refused attempts by a viewer add a handful of entries; the count is written; the chain verifies', async () => {
    const before = (await adminCall(gw.url, 'auditor', 'GET', '/audit')).body.entries.length as number;
    const started = performance.now();
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 30 }, () => adminCall(gw.url, 'viewer', 'POST', '/workflows', { document: { id: 'nope' } })));
      for (const answer of answers) expect(answer.status).toBe(403);
    }
    const ms = performance.now() - started;
    console.log(`300 refused attempts by one viewer: ${ms.toFixed(0)} ms`);
    const during = (await adminCall(gw.url, 'auditor', 'GET', '/audit')).body.entries.slice(before) as Array<Record<string, unknown>>;
    expect(during).toHaveLength(1);
    expect(during[0]).toMatchObject({ action: 'refused', actor: 'vera', role: 'viewer', detail: expect.stringContaining('POST /admin/api/workflows') });
    expect((await adminCall(gw.url, 'auditor', 'GET', '/audit/verify')).body.ok).toBe(true);

    // the minute's count is written when it closes, at the latest when the process stops
    await gw.sluice.close();
    closed = true;
    const store = await openFileStore(join(dataDir, 'store'));
    try {
      const after = (await store.audit()).slice(before);
      expect(after.length).toBeLessThanOrEqual(3);
      const refused = after.filter((e) => e.action === 'refused' && e.actor === 'vera');
      expect(refused.reduce((sum, e) => sum + (e.count ?? 1), 0)).toBe(300);
      expect(refused.at(-1)).toMatchObject({ count: 299, detail: expect.stringContaining('POST /admin/api/workflows') });
      expect((await store.verifyAudit()).ok).toBe(true);
    } finally {
      await store.close();
    }
    group.counted();
  }, 60_000);
});

describe('the refusal aggregator', () => {
  it('one entry per actor, operation and window; the count when the window closes; a new window writes again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-refusals-'));
    const store = await openFileStore(join(dir, 'store'));
    const { createRefusalAudit } = await import('../../engine/admin/refusal-audit.ts'); // imported here so the rest of the file runs on code without it
    const refusals = createRefusalAudit({ store, windowMs: 150 });
    try {
      const vera = { name: 'vera', role: 'viewer' } as const;
      const eddie = { name: 'eddie', role: 'editor' } as const;
      for (let i = 0; i < 50; i++) await refusals.record(vera, 'POST /admin/api/workflows', `POST /admin/api/workflows: role viewer may not create`);
      await refusals.record(vera, 'PUT /admin/api/errors', 'PUT /admin/api/errors: role viewer may not replace the catalog');
      await refusals.record(eddie, 'POST /admin/api/workflows/:id/publish', 'POST /admin/api/workflows/x/publish: role editor may not publish', 'x');
      expect((await store.audit()).map((e) => [e.actor, e.count])).toEqual([['vera', undefined], ['vera', undefined], ['eddie', undefined]]);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const closedWindows = await store.audit();
      expect(closedWindows).toHaveLength(4);
      expect(closedWindows[3]).toMatchObject({ action: 'refused', actor: 'vera', role: 'viewer', count: 49, detail: expect.stringMatching(/^POST \/admin\/api\/workflows: 49 more refused/) });
      await refusals.record(vera, 'POST /admin/api/workflows', 'POST /admin/api/workflows: role viewer may not create');
      expect(await store.audit()).toHaveLength(5);
      expect((await store.verifyAudit()).ok).toBe(true);
      group.counted();
    } finally {
      await refusals.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('demo mode', () => {
  /** A Sluice started from settings without SLUICE_DEMO, as a production config leaves it. */
  async function startPlain(extra: Record<string, string> = {}): Promise<{ sluice: Sluice; dataDir: string; logs: Array<Record<string, unknown>> }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (text: string) => void logs.push(...text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)) });
    const sluice = await startSluice(loadSettings({ PORT: '0', HOST: '127.0.0.1', SLUICE_DATA: dataDir, SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, ...extra }), { logger });
    return { sluice, dataDir, logs };
  }

  it('is off when SLUICE_DEMO is unset: no demo token endpoint, no demo key set, no demo key made', async () => {
    expect(loadSettings({}).demo).toBe(false);
    const { sluice, dataDir, logs } = await startPlain();
    try {
      const minted = await adminCall(sluice.url, 'editor', 'POST', '/demo-token', { sub: 'mallory', partner: 'acme', scopes: ['orders:read'] });
      expect(minted.status).toBe(404);
      expect(minted.body.type).toMatch(/\/not-found$/);
      expect(minted.body.token).toBeUndefined();
      await group.refused(await fetch(`${sluice.url}/.well-known/sluice/demo-jwks.json`), 404, 'not-found');
      expect(existsSync(join(dataDir, 'demo-key.json'))).toBe(false);
      expect(logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('demo mode'))).toBe(false);
      group.counted();
    } finally {
      await sluice.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('on with SLUICE_DEMO=on, and says so in a warning', async () => {
    const { sluice, dataDir, logs } = await startPlain({ SLUICE_DEMO: 'on' });
    try {
      const warning = logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('demo mode'));
      expect(warning).toMatchObject({ level: 40, msg: expect.stringMatching(/anyone with the editor role can mint tokens for any partner; do not use in production/) });
      expect((await adminCall(sluice.url, 'editor', 'POST', '/demo-token', { sub: 'alice' })).status).toBe(200);
      group.counted();
    } finally {
      await sluice.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['SLUICE_DEMO unset', 'on', undefined],
    ['SLUICE_DEMO=off', 'off', 'off'],
  ])('`sluice serve --demo` (npm start) with %s: demo mode %s, as the log says', async (_name, mode, demo) => {
    const on = mode === 'on';
    // undefined leaves SLUICE_DEMO out of the child's environment
    // a data dir the server seeds with the examples, as npm start's on a fresh machine
    const gw = await startProcessGateway({ args: ['--demo'], examples: true, env: { SLUICE_DEMO: demo } as Record<string, string> });
    try {
      expect(gw.logs.some((l) => l.level === 'warn' && typeof l.msg === 'string' && l.msg.startsWith('demo mode:'))).toBe(on);
      if (on) {
        // every example workflow is served (published before it listens), its tests, written with the
        // catalog's own type URIs, passing under the demo's base
        const examples = readdirSync(join(REPO, 'examples', 'workflows')).map((f) => f.replace(/\.json$/, '')).sort();
        expect(gw.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('workflow refused')).map((l) => l.msg)).toEqual([]);
        expect(gw.logs.filter((l) => l.msg === 'workflow activated').map((l) => String(l.workflow)).sort()).toEqual(examples);
        expect(((await (await gw.fetch('/api/orders')).json()) as { type: string }).type).toBe('/portal/problems/missing-token');
      }
      expect((await gw.fetch('/.well-known/sluice/demo-jwks.json')).status).toBe(on ? 200 : 404);
      // the quick start's problem types resolve on the gateway's own portal; out of demo mode, as the catalog writes them
      const refused = (await (await gw.fetch('/no/such/route')).json()) as { type: string };
      expect(refused.type).toBe(on ? '/portal/problems/not-found' : 'https://problems.sluice.example/not-found');
      if (on) expect((await gw.fetch(refused.type, { headers: { accept: 'application/json' } })).status).toBe(200);
      group.counted();
    } finally {
      await gw.close();
    }
  }, 60_000);

  it('`sluice token` never makes a demo issuer: without demo keys it refuses, naming SLUICE_DEMO', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-demo-cli-'));
    try {
      const env: Record<string, string | undefined> = { ...process.env, SLUICE_DATA: dataDir, LOG_LEVEL: 'silent' };
      delete env.SLUICE_DEMO;
      const run = await sluiceCli(['token', '--sub', 'mallory', '--partner', 'acme'], { env });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/no demo key found[\s\S]*SLUICE_DEMO=on/);
      expect(existsSync(join(dataDir, 'demo-key.json'))).toBe(false);
      group.counted();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('`npm start` asks for demo mode explicitly; `npm run serve`, the Dockerfile and docker-compose\'s gateways do not', () => {
    const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toMatch(/ serve --demo\b/);
    expect(scripts.serve).toMatch(/ serve$/);
    expect(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).not.toMatch(/SLUICE_DEMO|--demo/);
    const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command?: string[]; environment?: Record<string, string> }> };
    for (const name of ['gateway-1', 'gateway-2', 'gateway-3']) {
      const service = compose.services[name]!;
      expect(loadSettings({ ...service.environment, SLUICE_ADMIN_TOKENS: 'a:admin:0123456789abcdef0123' }).demo, name).toBe(false);
      expect(service.command ?? [], name).not.toContain('--demo');
    }
    group.counted();
  });
});

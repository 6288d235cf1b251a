import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { settingsSchema } from '../../engine/config.ts';
import { durationMs } from '../../shared/schema/duration.ts';
import { sluice, spawnSluice } from '../helpers/cli.ts';
import { SERVE_FLAGS } from '../helpers/engine-bundle.ts';
import { REPO } from '../helpers/gateway.ts';
import { freePort } from '../helpers/redis.ts';

/*
 * Nothing here runs Docker (no Docker engine on these machines). docker-compose.yml is checked
 * against the Compose specification's JSON Schema (compose_spec.json as shipped by the npm
 * package dclint, pinned exactly in package.json), the Dockerfile and the nginx config for what
 * the deployment relies on, and the commands the compose services run are run here for real.
 */

const COMPOSE_SCHEMA = join(REPO, 'node_modules', 'dclint', 'schemas', 'compose.schema.json');
const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA, 'utf8')) as Record<string, unknown>;
// The schema names its draft as https://json-schema.org/draft-07/schema, which Ajv knows by its http:// name.
const validate = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(schema);
const composeText = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  healthcheck?: unknown;
  stop_grace_period?: string;
}
const compose = parse(composeText) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const gateways = Object.entries(compose.services).filter(([name]) => name.startsWith('gateway-'));

describe('docker-compose.yml', () => {
  it('is valid by the Compose specification JSON Schema', () => {
    expect(schema.title).toBe('Compose Specification');
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['a misspelled top-level key', (c: Record<string, unknown>) => ({ ...c, servics: {} })],
    ['ports as a string', (c: { services: Record<string, Service> }) => ({ ...c, services: { ...c.services, lb: { ...c.services.lb, ports: '8080:8080' } } })],
    ['an unknown depends_on condition', (c: { services: Record<string, Service> }) => ({ ...c, services: { ...c.services, 'gateway-1': { ...c.services['gateway-1'], depends_on: { redis: { condition: 'service_ready' } } } } })],
  ])('the schema refuses %s (the check is not vacuous)', (_name, damage) => {
    expect(validate(damage(compose as never))).toBe(false);
  });

  it('runs Redis with a data volume and append-only persistence, and three gateway replicas on it behind a load balancer', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toMatch(/^redis:7/);
    expect(redis.volumes).toContain('redis-data:/data');
    expect(redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(redis.healthcheck).toBeDefined();
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['redis-data', 'sluice-data']));

    expect(gateways.map(([name]) => name)).toEqual(['gateway-1', 'gateway-2', 'gateway-3']);
    for (const [, gateway] of gateways) {
      expect(gateway.build).toBe('.');
      expect(gateway.environment).toMatchObject({ REDIS_URL: 'redis://redis:6379', SLUICE_DEMO_UPSTREAM: 'http://upstream:9090' });
      // the demo upstream's private address is allowed explicitly, and only its port
      expect((compose as { networks?: { default?: { ipam?: { config?: Array<{ subnet?: string }> } } } }).networks?.default?.ipam?.config?.[0]?.subnet).toBe('172.28.0.0/16');
      expect((gateway.environment as Record<string, string>).SLUICE_EGRESS_ALLOW).toBe('172.28.0.0/16:9090');
      expect(gateway.depends_on).toMatchObject({ redis: { condition: 'service_healthy' }, init: { condition: 'service_completed_successfully' } });
      // ready, not only alive; and stopped no sooner than the drain takes (SLUICE_SHUTDOWN_DELAY + SLUICE_SHUTDOWN_GRACE)
      expect(JSON.stringify(gateway.healthcheck)).toContain('/readyz');
      const env = gateway.environment as Record<string, string>;
      expect(durationMs(gateway.stop_grace_period!)).toBeGreaterThan(durationMs(env.SLUICE_SHUTDOWN_DELAY!) + durationMs(env.SLUICE_SHUTDOWN_GRACE!));
    }
    expect(compose.services.lb!.depends_on).toEqual(Object.fromEntries(gateways.map(([name]) => [name, { condition: 'service_healthy' }])));
    expect(compose.services.lb!.image).toMatch(/^nginx:/);
    expect(compose.services.lb!.ports).toEqual(['8080:8080']);
    const nginx = readFileSync(join(REPO, 'deploy', 'nginx.conf'), 'utf8');
    expect([...nginx.matchAll(/server (gateway-\d):8080/g)].map((m) => m[1])).toEqual(gateways.map(([name]) => name));
    expect(compose.services.lb!.volumes).toEqual(['./deploy/nginx.conf:/etc/nginx/nginx.conf:ro']);
  });

  it('sets only settings Sluice knows (plus the demo upstream URL the example workflows read)', () => {
    const known = new Set([...Object.keys(settingsSchema.shape), 'SLUICE_DEMO_UPSTREAM']);
    for (const [name, service] of Object.entries(compose.services))
      if (service.build !== undefined) for (const variable of Object.keys(service.environment ?? {})) expect(known.has(variable), `${name}: ${variable}`).toBe(true);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');

  it('builds in one stage and runs from another, as a non-root user, with production dependencies only and a healthcheck', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^FROM node:20[\w.-]* AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD .*\/healthz/m);
    expect(dockerfile).toMatch(/^CMD \["node", .*"dist\/cli\.mjs", "serve"\]$/m);
    // the image runs with npm start's Node flags
    const command = JSON.parse(/^CMD (\[.*"serve"\])$/m.exec(dockerfile)![1]!) as string[];
    expect(command.slice(1, -2)).toEqual(SERVE_FLAGS);
    // what the runtime stage copies from the repository exists
    for (const [, path] of dockerfile.matchAll(/^COPY --from=build \/app\/(\S+)/gm)) if (!['dist', 'editor/dist'].includes(path!)) expect(existsSync(join(REPO, path!)), path).toBe(true);
    expect(readFileSync(join(REPO, 'scripts', 'build.mjs'), 'utf8')).toContain("outfile: join(ROOT, 'dist', 'cli.mjs')");
  });
});

describe('the commands the compose services run', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-compose-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('init prepares the shared data directory once: examples, demo keys', async () => {
    expect(compose.services.init!.command).toEqual(['node', 'dist/cli.mjs', 'init']);
    const run = await sluice(['init'], { env: { ...process.env, ...compose.services.init!.environment, SLUICE_DATA: dataDir, SLUICE_ADMIN_TOKENS: '' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('ready');
    for (const file of ['workflows/orders.json', 'errors.json', 'keys/demo-jwks.json', 'admin-token']) expect(existsSync(join(dataDir, file)), file).toBe(true);
  }, 30_000);

  it('demo-upstream serves the orders the example workflows call', async () => {
    expect(compose.services.upstream!.command).toEqual(['node', 'dist/cli.mjs', 'demo-upstream']);
    const port = await freePort();
    const child = await spawnSluice(['demo-upstream'], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' } });
    try {
      await new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve()));
      const res = await fetch(`http://127.0.0.1:${port}/orders`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { orders: unknown[] }).orders.length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
  }, 30_000);
});

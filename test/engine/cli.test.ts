import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AUDIENCE, DEMO_ISSUER } from '../../engine/demo/keys.ts';
import { hashApiKey } from '../../engine/kinds/api-key.ts';
import { toMachineConfig, validateWorkflow } from '../../shared/compile/index.ts';
import { errorCatalogSchema } from '../../shared/schema/index.ts';
import { sluice as runSluice, sluiceFromSources, type CliRun } from '../helpers/cli.ts';
import { REPO, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/* The CLI as a user runs it: a child process (the engine bundle, as it ships), with its data directory in a temp dir. */

let dataDir: string;
let work: string;

const cliEnv = (env: Record<string, string>) => ({ ...process.env, SLUICE_DATA: dataDir, LOG_LEVEL: 'silent', ...env });
const sluice = (args: string[], env: Record<string, string> = {}): Promise<CliRun> => runSluice(args, { env: cliEnv(env) });

const EXAMPLES = readdirSync(join(REPO, 'examples', 'workflows'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => join('examples', 'workflows', f));
const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));

/** A workflow whose node configs are wrong in several ways. */
const badConfigs = {
  id: 'bad-configs',
  name: 'Bad configs',
  route: { methods: ['GET'], path: '/bad/configs' },
  nodes: [
    { id: 'verify', kind: 'jwt-verify', config: { issuer: 'x' } },
    { id: 'check', kind: 'condition', config: { when: '1 +' } },
    { id: 'limit', kind: 'rate-limit', config: { limit: 0 } },
    { id: 'mystery', kind: 'teleport', config: {} },
    { id: 'deny', kind: 'error', config: { error: 'no_such_error' } },
  ],
  edges: [],
};

/** A workflow whose graph is wrong in several ways, and whose route is reserved. */
const badGraph = {
  id: 'bad-graph',
  name: 'Bad graph',
  route: { methods: ['GET'], path: '/admin/graph' },
  nodes: [
    { id: 'check', kind: 'condition', config: { when: 'request.query.x = "1"' } },
    { id: 'yes', kind: 'respond', config: { body: { ok: true } } },
    { id: 'lost', kind: 'respond', config: { body: { ok: false } } },
    { id: 'shape', kind: 'transform-response', config: { body: '{}' } },
  ],
  edges: [
    { from: 'check', port: 'true', to: 'yes' },
    { from: 'check', port: 'nope', to: 'yes' },
    { from: 'lost', port: 'done', to: 'shape' },
  ],
  start: 'check',
};

const problemLine = (p: { node?: string; field?: string; message: string; code: string }) => `  - ${p.node ? `node "${p.node}"` : 'workflow'}${p.field ? `, ${p.field}` : ''}: ${p.message} [${p.code}]`;

describe('sluice CLI', () => {
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sluice-cli-data-'));
    work = mkdtempSync(join(tmpdir(), 'sluice-cli-work-'));
    writeFileSync(join(work, 'bad-configs.json'), JSON.stringify(badConfigs));
    writeFileSync(join(work, 'bad-graph.json'), JSON.stringify(badGraph));
    writeFileSync(join(work, 'not-json.json'), '{ "id": "broken", ');
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  describe('validate', () => {
    it('exits 0 on the examples', async () => {
      const run = await sluice(['validate', ...EXAMPLES]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.trim().split('\n')).toEqual(EXAMPLES.map((f) => `ok      ${f}`));
    });

    it('runs from the sources too, as `npm run sluice` (tsx engine/cli.ts) does for the README: same report, same exit', async () => {
      const run = await sluiceFromSources(['validate', ...EXAMPLES, join(work, 'bad-graph.json')], { env: cliEnv({}) });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe((await sluice(['validate', ...EXAMPLES, join(work, 'bad-graph.json')])).stdout);
      expect(run.stdout).toContain(`ok      ${EXAMPLES[0]}\n`);
      expect(run.stdout).toContain(`refused ${join(work, 'bad-graph.json')}\n`);
    });

    it('checks a fragment file as a fragment: the examples\' passes, a broken one is refused naming its node and exit', async () => {
      const good = await sluice(['validate', join('examples', 'fragments', 'partner-token.json')]);
      expect(good.code, good.stdout).toBe(0);
      const broken = join(work, 'broken-fragment.json');
      writeFileSync(broken, JSON.stringify({ id: 'broken', name: 'Broken', exits: [{ name: 'ok' }, { name: 'never' }], nodes: [{ id: 'check', kind: 'condition', config: { when: 'true' } }], edges: [{ from: 'check', port: 'true', to: 'ok' }, { from: 'check', port: 'false', to: 'ok' }] }));
      const run = await sluice(['validate', broken]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('  - workflow, exits.1: no edge leads to exit "never" [unreachable]');
    });

    it.each([
      ['bad-configs.json', badConfigs],
      ['bad-graph.json', badGraph],
    ])('exits 1 on %s, listing every problem with its node and field', async (file, document) => {
      const expected = validateWorkflow(document, { catalog });
      expect(expected.ok).toBe(false);
      const problems = expected.ok ? [] : expected.problems;
      expect(problems.length).toBeGreaterThanOrEqual(4);
      const run = await sluice(['validate', join(work, file)]);
      expect(run.code).toBe(1);
      const lines = run.stdout.trim().split('\n');
      expect(lines[0]).toBe(`refused ${join(work, file)}`);
      expect(lines.slice(1)).toEqual(problems.map(problemLine));
      for (const p of problems) if (p.code !== 'route_clash') expect(p.node, `${p.code} names a node`).toBeDefined();
    });

    it('pins each problem on the node and field a person would fix', async () => {
      const run = await sluice(['validate', join(work, 'bad-configs.json'), join(work, 'bad-graph.json')]);
      expect(run.code).toBe(1);
      for (const needle of [
        'node "verify", config.issuer',
        'node "check", config.when: JSONata',
        'node "limit", config.limit',
        'node "mystery", kind: unknown node kind "teleport"',
        'node "deny", config.error: error "no_such_error" is not in the error catalog',
        'node "check", edges.1.port',
        'node "check", ports.false',
        'node "lost"',
        'node "shape"',
        'workflow, route.path: paths under /admin are reserved',
      ])
        expect(run.stdout).toContain(needle);
    });

    it('a file that is not JSON is one more refused file: the others are still checked, exit 1', async () => {
      const run = await sluice(['validate', join(work, 'not-json.json'), EXAMPLES[0]!, join(work, 'missing.json')]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`refused ${join(work, 'not-json.json')}\n  - workflow, (document): not JSON: `);
      expect(run.stdout).toContain(`ok      ${EXAMPLES[0]}`);
      expect(run.stdout).toContain(`refused ${join(work, 'missing.json')}\n  - workflow, (document): cannot read the file: `);
    });

    it('two files with the same id or the same route are refused, as the gateway would', async () => {
      const copy = join(work, 'status-copy.json');
      writeFileSync(copy, readFileSync(join(REPO, 'examples', 'workflows', 'status.json')));
      const sameId = await sluice(['validate', join('examples', 'workflows', 'status.json'), copy]);
      expect(sameId.code).toBe(1);
      expect(sameId.stdout).toContain(`refused ${copy}\n  - workflow, id: workflow id "status" is also used by examples/workflows/status.json`);

      const clash = join(work, 'clash.json');
      writeFileSync(clash, JSON.stringify({ ...JSON.parse(readFileSync(join(REPO, 'examples', 'workflows', 'status.json'), 'utf8')), id: 'status-two' }));
      const sameRoute = await sluice(['validate', join('examples', 'workflows', 'status.json'), clash]);
      expect(sameRoute.code).toBe(1);
      expect(sameRoute.stdout).toContain('route.path: GET, HEAD /api/status is already served by workflow "status"');
    });

    it('a broken document beside a valid one with the same path: its problems are listed, no crash', async () => {
      const noMethods = join(work, 'no-methods.json');
      writeFileSync(noMethods, JSON.stringify({ id: 'no-methods', name: 'x', route: { path: '/api/status' }, nodes: [{ id: 'answer', kind: 'respond', config: {} }], edges: [] }));
      const run = await sluice(['validate', join('examples', 'workflows', 'status.json'), noMethods]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(1);
      expect(run.stdout).toBe(`ok      examples/workflows/status.json\nrefused ${noMethods}\n  - workflow, route.methods: is required [invalid_document]\n`);
    });

    it('without files it is a usage error (exit 2)', async () => {
      const run = await sluice(['validate']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('usage: sluice validate');
    });
  });

  describe('export xstate', () => {
    it.each(EXAMPLES)('prints the same JSON as toMachineConfig (%s)', async (file) => {
      const run = await sluice(['export', 'xstate', file]);
      expect(run.code, run.stderr).toBe(0);
      const result = validateWorkflow(JSON.parse(readFileSync(join(REPO, file), 'utf8')));
      if (!result.ok) throw new Error('example is invalid');
      expect(JSON.parse(run.stdout)).toEqual(toMachineConfig(result.graph));
      expect(run.stdout).toBe(`${JSON.stringify(toMachineConfig(result.graph), null, 2)}\n`);
    });

    it('writes the file given with -o', async () => {
      const out = join(work, 'machine.json');
      const run = await sluice(['export', 'xstate', EXAMPLES[0]!, '-o', out]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('');
      const result = validateWorkflow(JSON.parse(readFileSync(join(REPO, EXAMPLES[0]!), 'utf8')));
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(result.ok ? toMachineConfig(result.graph) : undefined);
    });

    it('refuses a broken workflow with exit 1, naming node and field', async () => {
      const run = await sluice(['export', 'xstate', join(work, 'bad-graph.json')]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('check, ports.false');
    });
  });

  describe('token and hash-key against the examples', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway();
    });
    afterAll(() => gw.close());

    it('sluice token prints a JWT the orders example accepts', async () => {
      const run = await sluice(['token', '--sub', 'alice', '--scope', 'orders:read', '--partner', 'acme'], { SLUICE_DATA: gw.dataDir });
      expect(run.code, run.stderr).toBe(0);
      const token = run.stdout.trim();
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(payload).toMatchObject({ iss: DEMO_ISSUER, aud: DEMO_AUDIENCE, sub: 'alice', scope: 'orders:read', azp: 'acme' });
      expect(typeof payload.exp).toBe('number');
      const res = await gw.fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { partner: string }).partner).toBe('acme');
    });

    it('a token without the scope is denied, one for another audience is refused', async () => {
      const plain = (await sluice(['token', '--sub', 'bob', '--partner', 'acme'], { SLUICE_DATA: gw.dataDir })).stdout.trim();
      expect((await gw.fetch('/api/orders', { headers: { authorization: `Bearer ${plain}` } })).status).toBe(403);
      const other = (await sluice(['token', '--sub', 'bob', '--scope', 'orders:read', '--aud', 'elsewhere'], { SLUICE_DATA: gw.dataDir })).stdout.trim();
      expect((await gw.fetch('/api/orders', { headers: { authorization: `Bearer ${other}` } })).status).toBe(401);
    });

    it('sluice token without --sub, or with an unknown option, is a usage error', async () => {
      const run = await sluice(['token'], { SLUICE_DATA: gw.dataDir });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('usage: sluice token');
      const unknown = await sluice(['token', '--sub', 'a', '--bogus'], { SLUICE_DATA: gw.dataDir });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("Unknown option '--bogus'");
    });

    it('sluice hash-key prints the hash an api-key node stores, and the example accepts the key', async () => {
      const run = await sluice(['hash-key', 'demo-globex-key']);
      expect(run.code, run.stderr).toBe(0);
      const hash = run.stdout.trim();
      expect(hash).toBe(hashApiKey('demo-globex-key'));
      const example = JSON.parse(readFileSync(join(REPO, 'examples', 'workflows', 'order-detail.json'), 'utf8')) as { nodes: Array<{ id: string; config: { keys?: Array<{ hash: string }> } }> };
      expect(example.nodes.find((n) => n.id === 'key')!.config.keys![0]!.hash).toBe(hash);
      const res = await gw.fetch('/api/orders/ord-1003', { headers: { 'x-api-key': 'demo-globex-key' } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { id: string }).id).toBe('ord-1003');
    });
  });

  it('an unknown command prints the usage and exits 2; help exits 0', async () => {
    const unknown = await sluice(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toContain('sluice <command>');
    const help = await sluice(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('validate <file…>');
  });
});

/**
 * What a workflow document may reach of the gateway's machine, module by module: the egress
 * policy's syntax and decisions, its connector on real sockets, the environment allow-lists and
 * the keys folder. (test/adversarial/control-plane.test.ts attacks the same through the admin API.)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressPolicy, parseEgressAllow } from '../../engine/kinds/support/egress.ts';
import { createKeyFiles } from '../../engine/kinds/support/key-files.ts';
import { createWorkflowEnv, parseEnvAllowList } from '../../engine/kinds/support/workflow-env.ts';
import { PrepareError } from '../../engine/kinds/prepare-error.ts';
import { loadSettings } from '../../engine/config.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

describe('SLUICE_EGRESS_ALLOW syntax', () => {
  it.each([
    ['10.0.0.0/8', 1],
    ['127.0.0.1:9090, 10.0.0.0/8:443', 2],
    ['[::1]:8080,[fd00::/8]:443,fd00::/8,::1', 4],
    ['api.example.com, api.example.com:443, *.partner.example', 3],
    ['', 0],
  ])('accepts %j', (text, count) => {
    expect(parseEgressAllow(text)).toHaveLength(count);
  });

  it.each([
    ['10.0.0.0/33', /not an address or a CIDR range/],
    ['127.0.0.1:0', /port/],
    ['127.0.0.1:70000', /port/],
    ['[::1', /write IPv6 as \[address\]/],
    ['exa mple.com', /not an address, a CIDR range or a host name/],
    ['http://10.0.0.1', /not an address, a CIDR range or a host name|port/],
    ['10.1', /not an address or a CIDR range/],
  ])('refuses %j, naming the entry', (text, message) => {
    expect(() => parseEgressAllow(text)).toThrow(message);
  });

  it('a bad setting stops the start, naming the variable', () => {
    expect(() => loadSettings({ SLUICE_EGRESS_ALLOW: '10.0.0.0/99' })).toThrow(/SLUICE_EGRESS_ALLOW: "10.0.0.0\/99"/);
    expect(() => loadSettings({ SLUICE_WORKFLOW_ENV: 'lower_case' })).toThrow(/SLUICE_WORKFLOW_ENV/);
  });
});

describe('egress decisions', () => {
  it.each([
    // address, port, SLUICE_EGRESS_ALLOW, public allowed, allowed, rule
    ['93.184.215.14', 443, '', true, true, /public/],
    ['93.184.215.14', 443, '', false, false, /SLUICE_EGRESS_PUBLIC is off/],
    ['127.0.0.1', 80, '', true, false, /loopback/],
    ['127.0.0.1', 9090, '127.0.0.1:9090', true, true, /127\.0\.0\.1:9090/],
    ['127.0.0.1', 9091, '127.0.0.1:9090', true, false, /loopback/],
    ['127.0.0.2', 9090, '127.0.0.1', true, false, /loopback/],
    ['::1', 80, '', true, false, /loopback/],
    ['::ffff:127.0.0.1', 80, '', true, false, /loopback/],
    ['::ffff:127.0.0.1', 80, '127.0.0.1', true, true, /127\.0\.0\.1/],
    ['::127.0.0.1', 80, '', true, false, /loopback|IPv4-compatible/],
    ['::7f00:1', 80, '', true, false, /IPv4-compatible/],
    ['::a9fe:a9fe', 80, '', true, false, /IPv4-compatible/],
    ['10.2.3.4', 80, '', true, false, /private/],
    ['10.2.3.4', 80, '10.0.0.0/8', true, true, /10\.0\.0\.0\/8/],
    ['172.31.255.1', 80, '', true, false, /private/],
    ['192.168.1.1', 80, '', true, false, /private/],
    ['100.64.0.1', 80, '', true, false, /carrier-grade NAT/],
    ['0.0.0.0', 80, '', true, false, /unspecified/],
    ['169.254.1.1', 80, '', true, false, /link-local/],
    ['fe80::1', 80, '', true, false, /link-local/],
    ['fd12::1', 80, '', true, false, /unique local/],
    ['224.0.0.1', 80, '', true, false, /multicast/],
    ['64:ff9b::a9fe:a9fe', 80, '', true, false, /special-purpose/],
    // metadata: a covering range is not enough, only the exact address
    ['169.254.169.254', 80, '', true, false, /metadata/],
    ['169.254.169.254', 80, '169.254.0.0/16', true, false, /metadata/],
    ['169.254.169.254', 80, '0.0.0.0/0', true, false, /metadata/],
    ['169.254.169.254', 80, '169.254.169.254', true, true, /169\.254\.169\.254/],
    ['::ffff:169.254.169.254', 80, '', true, false, /metadata/],
    ['fd00:ec2::254', 80, '[fd00::/8]', true, false, /metadata/],
    ['100.100.100.200', 80, '100.64.0.0/10', true, false, /metadata/],
    ['168.63.129.16', 80, '', true, false, /metadata/],
  ])('%s port %i with %j (public %s): allowed %s', (address, port, allow, publicAddresses, allowed, rule) => {
    const verdict = createEgressPolicy({ allow, publicAddresses }).decide(address, port);
    expect(verdict.allowed).toBe(allowed);
    expect(verdict.rule).toMatch(rule);
  });

  it.each([
    ['api.example.com', 'api.example.com', true],
    ['API.Example.com.', 'api.example.com', true],
    ['other.example.com', 'api.example.com', false],
    ['a.partner.example', '*.partner.example', true],
    ['partner.example', '*.partner.example', false],
    ['api.example.com', 'api.example.com:8443', false],
  ])('with public addresses off, the host name %s with the entry %s: allowed %s', (host, entry, allowed) => {
    expect(createEgressPolicy({ allow: entry, publicAddresses: false }).decide('93.184.215.14', 443, host).allowed).toBe(allowed);
  });

  it('a host-name entry never opens a denied address', () => {
    expect(createEgressPolicy({ allow: 'localhost', publicAddresses: false }).decide('127.0.0.1', 80, 'localhost')).toMatchObject({ allowed: false, rule: expect.stringMatching(/loopback/) });
  });

  it('publish: a name that resolves nowhere now is left to the connect-time check', async () => {
    const policy = createEgressPolicy({ lookup: (_h, _o, callback) => process.nextTick(callback, Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []) });
    expect(await policy.check({ url: new URL('http://nowhere.example/'), label: 'x', literal: true })).toBeUndefined();
  });

  it('a refusal for a host read from a variable names the variable and the rule, not the host', async () => {
    const refused = await createEgressPolicy().check({ url: new URL('http://10.9.8.7:8080/'), label: '${SLUICE_UPSTREAM_X}', literal: false });
    expect(refused).toMatch(/^\$\{SLUICE_UPSTREAM_X\} .*private/);
    expect(refused).not.toContain('10.9.8.7');
  });
});

describe('the egress connector on real sockets', () => {
  let allowed: TestUpstream;
  let denied: TestUpstream;
  const denials: unknown[] = [];
  beforeAll(async () => {
    allowed = await startUpstream();
    denied = await startUpstream();
  });
  afterAll(async () => {
    await allowed?.close();
    await denied?.close();
  });

  const call = async (url: string, allow: string) => {
    const policy = createEgressPolicy({ allow, onDenied: (d) => denials.push(d) });
    const pool = new Pool(new URL(url).origin, { connect: policy.connector() });
    try {
      const answer = await pool.request({ path: '/', method: 'GET' });
      await answer.body.dump();
      return answer.statusCode;
    } catch (error) {
      return (error as { code?: string }).code;
    } finally {
      await pool.close();
    }
  };

  it.each([
    ['a literal address and port allowed', () => allowed.url, () => `127.0.0.1:${new URL(allowed.url).port}`, 200],
    ['a literal address on another port', () => denied.url, () => `127.0.0.1:${new URL(allowed.url).port}`, 'EGRESS_DENIED'],
    ['a name resolving to an allowed address and port', () => allowed.url.replace('127.0.0.1', 'localhost'), () => `127.0.0.1:${new URL(allowed.url).port}`, 200],
    ['a name resolving to a denied address', () => denied.url.replace('127.0.0.1', 'localhost'), () => '', 'EGRESS_DENIED'],
  ])('%s', async (_what, url, allow, expected) => {
    const before = denied.received.length;
    expect(await call(url(), allow())).toBe(expected);
    if (expected === 'EGRESS_DENIED') {
      expect(denied.received.length).toBe(before);
      expect(denials.at(-1)).toMatchObject({ port: Number(new URL(url()).port), rule: expect.stringMatching(/loopback/) });
    }
  });
});

describe('environment allow-lists', () => {
  const env = { SLUICE_UPSTREAM_ORDERS: 'http://orders', ORDERS_URL: 'http://o2', SLUICE_SECRET_HS: 'k'.repeat(32), SLUICE_UPSTREAM_EMPTY: '', DB_PASSWORD: 'pw' };
  const read = (kind: 'url' | 'secret', name: string, urls = 'SLUICE_UPSTREAM_*,ORDERS_URL', secrets = 'SLUICE_SECRET_*,SLUICE_UPSTREAM_SECRET*') => {
    try {
      return createWorkflowEnv(env, { urls: parseEnvAllowList(urls), secrets: parseEnvAllowList(secrets) })[kind](name, 'config.x');
    } catch (error) {
      expect(error).toBeInstanceOf(PrepareError);
      expect((error as PrepareError).field).toBe('config.x');
      for (const value of Object.values(env)) if (value !== '') expect((error as Error).message).not.toContain(value);
      return (error as Error).message;
    }
  };
  it.each([
    ['url', 'SLUICE_UPSTREAM_ORDERS', 'http://orders'],
    ['url', 'ORDERS_URL', 'http://o2'],
    ['url', 'DB_PASSWORD', /DB_PASSWORD is not allowed/],
    ['url', 'SLUICE_UPSTREAM_EMPTY', /SLUICE_UPSTREAM_EMPTY is not set/],
    ['url', 'SLUICE_UPSTREAM_MISSING', /SLUICE_UPSTREAM_MISSING is not set/],
    ['url', 'SLUICE_SECRET_HS', /is a secret/],
    ['url', 'SLUICE_UPSTREAM_SECRET_X', /is a secret/],
    ['secret', 'SLUICE_SECRET_HS', 'k'.repeat(32)],
    ['secret', 'SLUICE_UPSTREAM_ORDERS', /not allowed as a secret/],
    ['secret', 'DB_PASSWORD', /not allowed as a secret/],
    ['url', 'toString', /not allowed/],
  ] as const)('%s %s', (kind, name, expected) => {
    const result = read(kind, name);
    if (typeof expected === 'string') expect(result).toBe(expected);
    else expect(result).toMatch(expected);
  });

  it.each(['lower', 'A-B', '*', 'A*B'])('refuses the pattern %j', (pattern) => {
    expect(() => parseEnvAllowList(pattern)).toThrow(/not a variable name/);
  });
});

describe('the keys folder', () => {
  let dataDir: string;
  let outside: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sluice-keys-'));
    outside = mkdtempSync(join(tmpdir(), 'sluice-keys-outside-'));
    mkdirSync(join(dataDir, 'keys', 'sub'), { recursive: true });
    writeFileSync(join(dataDir, 'keys', 'a.json'), 'A');
    writeFileSync(join(dataDir, 'keys', 'sub', 'b.json'), 'B');
    writeFileSync(join(outside, 'secret'), 'OUTSIDE');
    writeFileSync(join(dataDir, 'keys', 'big.json'), Buffer.alloc(1024 * 1024 + 1, 32));
    symlinkSync(join(dataDir, 'keys', 'a.json'), join(dataDir, 'keys', 'inside-link.json'));
    symlinkSync(join(outside, 'secret'), join(dataDir, 'keys', 'outside-link.json'));
    symlinkSync(outside, join(dataDir, 'keys', 'outside-dir'));
    execFileSync('mkfifo', [join(dataDir, 'keys', 'fifo.json')]);
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it.each([
    ['a.json', 'A'],
    ['sub/b.json', 'B'],
    ['./a.json', 'A'],
    ['inside-link.json', 'A'],
    ['/etc/passwd', /relative path/],
    ['C:/x', /relative path/],
    ['..\\..\\x', /relative path/],
    ['../../etc/passwd', /"\.\." leaves/],
    ['sub/../../x', /"\.\." leaves/],
    ['outside-link.json', /leads outside/],
    ['outside-dir/secret', /leads outside/],
    ['missing.json', /does not exist/],
    ['sub', /not a regular file/],
    ['fifo.json', /not a regular file/],
    ['big.json', /larger than/],
  ])('%s', (name, expected) => {
    let result: string;
    try {
      result = createKeyFiles(dataDir).read(name, 'config.jwksFile');
    } catch (error) {
      expect(error).toBeInstanceOf(PrepareError);
      result = (error as Error).message;
      expect(result).not.toContain('OUTSIDE');
      expect(result).not.toContain(dataDir);
    }
    if (typeof expected === 'string') expect(result).toBe(expected);
    else expect(result).toMatch(expected);
  });
});

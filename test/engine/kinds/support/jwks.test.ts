import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, exportJWK, generateKeyPair, type FlattenedJWSInput, type JWK } from 'jose';
import { Agent, buildConnector } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRemoteKeySet, KeysUnavailable, parseKeySet } from '../../../../engine/kinds/support/jwks.ts';

describe('parseKeySet', () => {
  it('reads a JSON Web Key Set', () => {
    const set = { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }, { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] };
    expect(parseKeySet(JSON.stringify(set))).toEqual(set);
  });

  it.each([
    ['no JSON (the text is never quoted)', 'secret-password {'],
    ['null', 'null'],
    ['a JSON array', '[{"kty":"RSA"}]'],
    ['no keys', '{}'],
    ['keys that are no array', '{"keys":{"kty":"RSA"}}'],
    ['an empty key list', '{"keys":[]}'],
    ['a key that is null', '{"keys":[{"kty":"RSA"},null]}'],
    ['a key that is a string', '{"keys":["RSA"]}'],
    ['a key without kty', '{"keys":[{"kty":"RSA"},{"n":"x"}]}'],
    ['a kty that is no string', '{"keys":[{"kty":1}]}'],
  ])('refuses %s as "not a JSON Web Key Set"', (_name, text) => {
    expect(() => parseKeySet(text)).toThrow(new Error('not a JSON Web Key Set'));
  });
});

/** One key pair's public JWK. */
async function publicKey(kid: string): Promise<JWK> {
  const { publicKey: key } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(key)), kid, alg: 'RS256', use: 'sig' };
}

/** What getKey reads of a token: its header (the token itself only for jose's own header merge). */
const TOKEN = { payload: '', signature: '' } as FlattenedJWSInput;
const header = (kid: string, alg = 'RS256') => ({ alg, kid });

/**
 * Remote key sets over real HTTP: each path of the server is one key server
 * (http://127.0.0.1:<port>/<name>) answering what the test set for it, or holding its answer
 * until the test releases it. Time is the key set's own clock (`now`), moved by hand.
 */
describe('createRemoteKeySet (engine/kinds/support/jwks.ts)', () => {
  let server: Server;
  let base: string;
  let k1: JWK;
  let k2: JWK;
  let k3: JWK;
  const answers = new Map<string, { status: number; body: string }>();
  const hits = new Map<string, number>();
  const requests: Array<{ method: string | undefined; headers: IncomingHttpHeaders }> = [];
  /** Names whose answers wait until their release is called. */
  const held = new Map<string, Promise<void>>();

  beforeAll(async () => {
    [k1, k2, k3] = await Promise.all([publicKey('k1'), publicKey('k2'), publicKey('k3')]);
    server = createServer((req, res) => {
      const name = (req.url ?? '').split('/')[1]!;
      hits.set(name, (hits.get(name) ?? 0) + 1);
      requests.push({ method: req.method, headers: req.headers });
      void (held.get(name) ?? Promise.resolve()).then(() => {
        if (name.startsWith('hang')) return; // never answers
        const answer = answers.get(name) ?? { status: 404, body: '' };
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const urlOf = (name: string) => `${base}/${name}/jwks.json`;
  const serve = (name: string, keys: JWK[] | string, status = 200) => answers.set(name, { status, body: typeof keys === 'string' ? keys : JSON.stringify({ keys }) });
  /** Holds the answers of `name` until the returned function is called. */
  const hold = (name: string) => {
    let release!: () => void;
    held.set(name, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      held.delete(name);
      release();
    };
  };
  const unavailable = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeysUnavailable);
    expect((error as Error).name).toBe('KeysUnavailable');
    expect((error as Error).message).toBe('no keys could be fetched from the key server');
    return (error as Error).cause as Error;
  };

  it('fetches nothing until asked, then the key set once, by GET asking for JSON', async () => {
    serve('first', [k1]);
    const clock = 1_000_000;
    const keys = createRemoteKeySet(urlOf('first'), { now: () => clock });
    expect([keys.fetches, keys.fetchedAt, hits.get('first')]).toEqual([0, 0, undefined]);
    requests.length = 0;
    expect((await keys.getKey(header('k1'), TOKEN)).type).toBe('public');
    expect(requests).toEqual([{ method: 'GET', headers: expect.objectContaining({ accept: 'application/json' }) }]);
    await keys.getKey(header('k1'), TOKEN);
    expect([keys.fetches, keys.fetchedAt, hits.get('first')]).toEqual([1, clock, 1]);
  });

  it('callers that come while the first fetch runs share it', async () => {
    serve('shared', [k1]);
    const release = hold('shared');
    const keys = createRemoteKeySet(urlOf('shared'), { now: () => 1_000 });
    const calls = [keys.getKey(header('k1'), TOKEN), keys.getKey(header('k1'), TOKEN), keys.getKey(header('k1'), TOKEN)];
    await vi.waitFor(() => expect(hits.get('shared')).toBe(1), { timeout: 15_000 });
    release();
    expect((await Promise.all(calls)).map((key) => key.type)).toEqual(['public', 'public', 'public']);
    expect(keys.fetches).toBe(1);
  });

  it('a key server that never answered: KeysUnavailable with the cause, tried again at most once a second', async () => {
    serve('down', 'busy', 503);
    let clock = 2_000_000;
    const keys = createRemoteKeySet(urlOf('down'), { now: () => clock });
    expect((await unavailable(keys.getKey(header('k1'), TOKEN))).message).toBe('key server answered 503');
    clock += 999;
    await unavailable(keys.getKey(header('k1'), TOKEN));
    expect(hits.get('down')).toBe(1);
    clock += 1;
    await unavailable(keys.getKey(header('k1'), TOKEN));
    expect(hits.get('down')).toBe(2);
    expect([keys.fetches, keys.fetchedAt]).toEqual([2, 0]);
    serve('down', [k1]);
    clock += 1_000;
    expect((await keys.getKey(header('k1'), TOKEN)).type).toBe('public');
    expect([keys.fetches, keys.fetchedAt]).toEqual([3, clock]);
  });

  it('with a cooldown under a second, a key server never reached is tried again once per cooldown', async () => {
    serve('short', 'busy', 500);
    let clock = 3_000_000;
    const keys = createRemoteKeySet(urlOf('short'), { cooldownMs: 400, now: () => clock });
    await unavailable(keys.getKey(header('k1'), TOKEN));
    clock += 399;
    await unavailable(keys.getKey(header('k1'), TOKEN));
    expect(keys.fetches).toBe(1);
    clock += 1;
    await unavailable(keys.getKey(header('k1'), TOKEN));
    expect(keys.fetches).toBe(2);
  });

  it.each([
    ['garbage', '{"keys": "nope"', /not a JSON Web Key Set/],
    ['a key set over the size bound', JSON.stringify({ keys: [{ kty: 'RSA', pad: 'x'.repeat(600) }] }), /^the key set is larger than 512 bytes$/],
  ])('a key server answering %s: KeysUnavailable', async (name, body, cause) => {
    serve(`bad-${name.length}`, body);
    const keys = createRemoteKeySet(urlOf(`bad-${name.length}`), { maxBytes: 512, now: () => 0 });
    expect((await unavailable(keys.getKey(header('k1'), TOKEN))).message).toMatch(cause);
  });

  it('a key set as large as the size bound is read', async () => {
    const body = JSON.stringify({ keys: [k1] });
    serve('exact', body);
    const keys = createRemoteKeySet(urlOf('exact'), { maxBytes: Buffer.byteLength(body), now: () => 0 });
    expect((await keys.getKey(header('k1'), TOKEN)).type).toBe('public');
  });

  it('a default key set reads up to 512 KB', async () => {
    const padded = JSON.stringify({ keys: [{ ...k1, pad: 'x'.repeat(400 * 1024) }] });
    serve('large', padded);
    expect((await createRemoteKeySet(urlOf('large'), { now: () => 0 }).getKey(header('k1'), TOKEN)).type).toBe('public');
    serve('larger', JSON.stringify({ keys: [{ ...k1, pad: 'x'.repeat(513 * 1024) }] }));
    expect((await unavailable(createRemoteKeySet(urlOf('larger'), { now: () => 0 }).getKey(header('k1'), TOKEN))).message).toBe('the key set is larger than 524288 bytes');
  });

  it('a key server that never answers: the fetch gives up after its timeout', async () => {
    const keys = createRemoteKeySet(urlOf('hang-a'), { timeoutMs: 200, now: () => 0 });
    await unavailable(keys.getKey(header('k1'), TOKEN));
  });

  it('a key server that never answers: by default the fetch gives up too (after 5 s)', async () => {
    const keys = createRemoteKeySet(urlOf('hang-b'), { now: () => 0 });
    await unavailable(keys.getKey(header('k1'), TOKEN));
  });

  it('refreshes keys older than their maximum age in the background, serving the known keys meanwhile', async () => {
    serve('aging', [k1]);
    let clock = 4_000_000;
    const keys = createRemoteKeySet(urlOf('aging'), { maxAgeMs: 60_000, cooldownMs: 10_000, now: () => clock });
    await keys.getKey(header('k1'), TOKEN);
    serve('aging', [k1, k2]);
    clock += 60_000; // exactly the maximum age: not older yet
    await keys.getKey(header('k1'), TOKEN);
    expect(keys.fetches).toBe(1);
    clock += 1;
    const release = hold('aging');
    expect((await keys.getKey(header('k1'), TOKEN)).type).toBe('public'); // answered before the refresh ends
    expect(keys.fetches).toBe(2);
    release();
    await vi.waitFor(() => expect(keys.fetchedAt).toBe(clock), { timeout: 15_000 });
    expect((await keys.getKey(header('k2'), TOKEN)).type).toBe('public');
    expect(keys.fetches).toBe(2);
  });

  it('keeps the known keys while refreshes fail, trying again once per cooldown', async () => {
    serve('flaky', [k1]);
    let clock = 5_000_000;
    const keys = createRemoteKeySet(urlOf('flaky'), { maxAgeMs: 60_000, cooldownMs: 10_000, now: () => clock });
    await keys.getKey(header('k1'), TOKEN);
    const fetchedAt = keys.fetchedAt;
    serve('flaky', 'down', 503);
    clock += 60_001;
    await keys.getKey(header('k1'), TOKEN);
    await vi.waitFor(() => expect(hits.get('flaky')).toBe(2), { timeout: 15_000 });
    clock += 9_999; // old, but tried within the cooldown
    expect((await keys.getKey(header('k1'), TOKEN)).type).toBe('public');
    expect(keys.fetches).toBe(2);
    clock += 1;
    expect((await keys.getKey(header('k1'), TOKEN)).type).toBe('public');
    expect(keys.fetches).toBe(3);
    await vi.waitFor(() => expect(hits.get('flaky')).toBe(3), { timeout: 15_000 });
    expect(keys.fetchedAt).toBe(fetchedAt);
  });

  it('by default keys are refreshed after 10 minutes, not before', async () => {
    serve('ten', [k1]);
    let clock = 6_000_000;
    const keys = createRemoteKeySet(urlOf('ten'), { now: () => clock });
    await keys.getKey(header('k1'), TOKEN);
    clock += 10 * 60_000;
    await keys.getKey(header('k1'), TOKEN);
    expect(keys.fetches).toBe(1);
    clock += 1;
    await keys.getKey(header('k1'), TOKEN);
    expect(keys.fetches).toBe(2);
  });

  it('an unknown kid refetches at most once per cooldown, and finds a key added since', async () => {
    serve('rotate', [k1]);
    let clock = 7_000_000;
    const keys = createRemoteKeySet(urlOf('rotate'), { cooldownMs: 10_000, now: () => clock });
    await keys.getKey(header('k1'), TOKEN);
    serve('rotate', [k1, k2]);
    clock += 9_999;
    await expect(keys.getKey(header('k2'), TOKEN)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(keys.fetches).toBe(1);
    clock += 1;
    expect((await keys.getKey(header('k2'), TOKEN)).type).toBe('public');
    expect(keys.fetches).toBe(2);
    // a kid nobody serves: one refetch, then none within the cooldown
    clock += 10_000;
    await expect(keys.getKey(header('k3'), TOKEN)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(keys.getKey(header('k3'), TOKEN)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(keys.fetches).toBe(3);
  });

  it('by default an unknown kid refetches after 30 s, not before', async () => {
    serve('thirty', [k1]);
    let clock = 8_000_000;
    const keys = createRemoteKeySet(urlOf('thirty'), { now: () => clock });
    await keys.getKey(header('k1'), TOKEN);
    serve('thirty', [k1, k2]);
    clock += 29_999;
    await expect(keys.getKey(header('k2'), TOKEN)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(keys.fetches).toBe(1);
    clock += 1;
    expect((await keys.getKey(header('k2'), TOKEN)).type).toBe('public');
    expect(keys.fetches).toBe(2);
  });

  it('an unknown kid while another caller\'s fetch runs waits for that fetch, even within the cooldown', async () => {
    serve('join', [k1]);
    let clock = 9_000_000;
    const keys = createRemoteKeySet(urlOf('join'), { cooldownMs: 10_000, now: () => clock });
    await keys.getKey(header('k1'), TOKEN);
    serve('join', [k1, k2, k3]);
    clock += 10_000;
    const release = hold('join');
    const first = keys.getKey(header('k2'), TOKEN); // starts the refetch
    await vi.waitFor(() => expect(hits.get('join')).toBe(2), { timeout: 15_000 });
    const second = keys.getKey(header('k3'), TOKEN); // within the cooldown of that fetch: joins it
    release();
    expect((await Promise.all([first, second])).map((key) => key.type)).toEqual(['public', 'public']);
    expect(keys.fetches).toBe(2);
  });

  it('a header no key can verify for any reason but an unknown kid is refused without a fetch', async () => {
    serve('alg', [k1]);
    let clock = 10_000_000;
    const keys = createRemoteKeySet(urlOf('alg'), { cooldownMs: 10_000, now: () => clock });
    await keys.getKey(header('k1'), TOKEN);
    clock += 10_000;
    await expect(keys.getKey(header('k1', 'HS256'), TOKEN)).rejects.toBeInstanceOf(errors.JOSENotSupported);
    expect(keys.fetches).toBe(1);
  });

  it('finds its URL anew for each fetch, and a failure to find it is a failed fetch', async () => {
    serve('found-a', [k1]);
    serve('found-b', [k1, k2]);
    let clock = 11_000_000;
    const where: Array<string | Error> = [new Error('no jwks_uri'), urlOf('found-a'), urlOf('found-b')];
    const keys = createRemoteKeySet(
      async () => {
        const next = where.shift()!;
        if (next instanceof Error) throw next;
        return next;
      },
      { cooldownMs: 10_000, now: () => clock },
    );
    expect((await unavailable(keys.getKey(header('k1'), TOKEN))).message).toBe('no jwks_uri');
    clock += 1_000;
    expect((await keys.getKey(header('k1'), TOKEN)).type).toBe('public');
    clock += 10_000;
    expect((await keys.getKey(header('k2'), TOKEN)).type).toBe('public');
    expect([hits.get('found-a'), hits.get('found-b'), keys.fetches]).toEqual([1, 1, 3]);
  });

  it('connects through the dispatcher it is given', async () => {
    serve('agent', [k1]);
    const connector = buildConnector({});
    let connections = 0;
    const counting = new Agent({
      connect: (options, callback) => {
        connections += 1;
        connector(options, callback);
      },
    });
    const refusing = new Agent({ connect: (_options, callback) => callback(new Error('refused by policy'), null) });
    try {
      expect((await createRemoteKeySet(urlOf('agent'), { dispatcher: counting, now: () => 0 }).getKey(header('k1'), TOKEN)).type).toBe('public');
      expect(connections).toBe(1);
      const before = hits.get('agent');
      await unavailable(createRemoteKeySet(urlOf('agent'), { dispatcher: refusing, now: () => 0 }).getKey(header('k1'), TOKEN));
      expect(hits.get('agent')).toBe(before);
    } finally {
      await Promise.all([counting.close(), refusing.close()]);
    }
  });
});

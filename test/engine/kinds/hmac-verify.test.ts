import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartners } from '../../../engine/admin/commands/partners.ts';
import { canonicalString } from '../../../engine/kinds/hmac-verify.ts';
import { portWords } from '../../../shared/compile/port-words.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, startOwnedRedis, testPrefix, type OwnedRedis } from '../../helpers/redis.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { ADMIN_TOKENS, adminOf, type Admin } from '../admin/support.ts';
import { describeKind } from './describe-kind.ts';

describeKind('hmac-verify', {
  minimal: { config: {}, parsed: { header: 'signature', algorithms: ['sha256'], skew: '5m' } },
  accepts: [['both digests, another header and a tight window', { header: 'X-Signature', algorithms: ['sha256', 'sha512'], skew: '30s' }]],
  refuses: [
    ['a digest outside the allow-list', { algorithms: ['md5'] }, ['algorithms.0']],
    ['no digest at all', { algorithms: [] }, ['algorithms']],
    ['a window over an hour', { skew: '2h' }, ['skew']],
    ['a secret in the config', { secret: 'x' }, ['secret']],
  ],
  readsBody: [[{}, true]],
});

/** The Signature header a partner sends for one request. */
function sign(key: { id: string; secret: string }, method: string, pathWithQuery: string, body = '', options: { ts?: number; digest?: 'sha256' | 'sha512' } = {}): Record<string, string> {
  const ts = String(options.ts ?? Math.floor(Date.now() / 1000));
  const sig = createHmac(options.digest ?? 'sha256', key.secret).update(canonicalString(method, pathWithQuery, ts, Buffer.from(body))).digest('hex');
  return { signature: `keyId=${key.id},ts=${ts},sig=${sig}`, 'content-type': 'application/json' };
}

describe('hmac-verify in the contract\'s words (shared/compile/port-words.ts)', () => {
  const node = { id: 'sig', kind: 'hmac-verify', config: {} };
  it.each([
    ['ok', 'the request signature is valid'],
    ['missing', 'the request signature is missing'],
    ['invalid', 'the request signature is malformed, stale, made with an unknown key or wrong'],
    ['replayed', 'the request signature was used already'],
    ['unsubscribed', 'the partner subscribes to none of the API products that include this workflow'],
  ])('%s: %s', (port, words) => {
    expect(portWords(node, port)).toBe(words);
  });
});

describe('the README\'s worked example', () => {
  it('is what a partner computes', () => {
    const body = Buffer.from('{"event":"order.paid","id":42}');
    const canonical = canonicalString('post', '/hooks/orders?attempt=1', '1796385600', body);
    expect(canonical).toBe('POST\n/hooks/orders?attempt=1\n1796385600\n8a43762baa486ce0cef47a0494706fae7f6e10302ac332194be66988c1978889');
    expect(createHmac('sha256', 'Zm9vYmFyLWV4YW1wbGUtc2VjcmV0LW5vdC1yZWFs').update(canonical).digest('hex')).toBe('d30ef83872b4d224e3a6cdee8e904b7553c31518fec3b32a9ed022b163d607e8');
  });
});

const whoNode: NodeDoc = { id: 'who', kind: 'respond', config: { bodyExpression: '{ "port": "ok", "partner": partner }' } };
const ALL_PORTS = ['missing', 'invalid', 'replayed', 'suspended', 'unsubscribed'];

describe('hmac-verify', () => {
  let gw: TestGateway;
  let admin: Admin;
  /** Every secret handed out: none may appear in an admin answer or a log line afterwards. */
  const secrets: string[] = [];
  const keys: Record<string, { id: string; secret: string }> = {};
  const createSecret = async (partner: string) => {
    const answer = await admin('publisher', 'POST', `/partners/${partner}/hmac-secrets`, {});
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toMatchObject({ id: expect.stringMatching(/^hk_[0-9a-f]{8}$/), secret: expect.any(String), partner });
    secrets.push(answer.body.secret as string);
    return { id: answer.body.id as string, secret: answer.body.secret as string };
  };

  beforeAll(async () => {
    gw = await startGateway(
      [
        workflow('sig-default', { path: '/sig', methods: ['POST'] }, [{ id: 'sig', kind: 'hmac-verify' }, whoNode], [['sig', 'ok', 'who']]),
        workflow(
          'sig-ports',
          { path: '/sig/ports', methods: ['POST'] },
          [{ id: 'sig', kind: 'hmac-verify', config: { algorithms: ['sha256', 'sha512'] } }, whoNode, ...ALL_PORTS.map((p) => portNode(p))],
          [['sig', 'ok', 'who'], ...ALL_PORTS.map((p) => ['sig', p, p] as [string, string, string])],
        ),
        // a header a client may send as a list (node:http keeps each Set-Cookie apart): once is read, twice is none
        workflow('sig-list', { path: '/sig/list', methods: ['POST'] }, [{ id: 'sig', kind: 'hmac-verify', config: { header: 'set-cookie' } }, whoNode, portNode('missing')], [['sig', 'ok', 'who'], ['sig', 'missing', 'missing']]),
        workflow('sig-get', { path: '/sig/get', methods: ['GET'] }, [{ id: 'sig', kind: 'hmac-verify' }, { id: 'who', kind: 'respond', config: { bodyExpression: '{ "partner": partner, "scopes": scopes }' } }], [['sig', 'ok', 'who']]),
      ],
      { demo: false, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_MAX_BODY: '64kb' } },
    );
    admin = adminOf(gw.url);
    expect((await admin('publisher', 'PUT', '/products/hooks', { name: 'hooks', workflows: ['sig-ports'] })).status).toBe(200);
    for (const [id, products] of [['acme', ['hooks']], ['globex', ['hooks']], ['initech', []]] as const) {
      expect((await admin('publisher', 'POST', '/partners', { id, name: id, products })).status).toBe(201);
      keys[id] = await createSecret(id);
    }
    expect((await admin('publisher', 'POST', '/partners/globex/suspend', {})).status).toBe(200);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
  });
  afterAll(() => gw?.close());

  it('a valid signature identifies the partner; method, path with query and body are all signed', async () => {
    const body = '{"event":"order.paid","id":42}';
    const res = await gw.fetch('/sig?attempt=1', { method: 'POST', body, headers: sign(keys.acme!, 'POST', '/sig?attempt=1', body) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ port: 'ok', partner: 'acme' });
    // the same signature over another body, query or without the query is wrong
    await expectProblem(await gw.fetch('/sig?attempt=1', { method: 'POST', body: '{"event":"order.paid","id":43}', headers: sign(keys.acme!, 'POST', '/sig?attempt=1', body) }), 401, 'invalid-signature');
    await expectProblem(await gw.fetch('/sig?attempt=2', { method: 'POST', body, headers: sign(keys.acme!, 'POST', '/sig?attempt=1', body) }), 401, 'invalid-signature');
  });

  it('the body is read within the gateway\'s limit (SLUICE_MAX_BODY): a larger signed body is refused with 413 before it is hashed', async () => {
    const near = JSON.stringify({ pad: 'x'.repeat(60_000) });
    expect((await gw.fetch('/sig?near', { method: 'POST', body: near, headers: sign(keys.acme!, 'POST', '/sig?near', near) })).status).toBe(200);
    const over = JSON.stringify({ pad: 'x'.repeat(70_000) });
    await expectProblem(await gw.fetch('/sig?over', { method: 'POST', body: over, headers: sign(keys.acme!, 'POST', '/sig?over', over) }), 413, 'payload-too-large');
  });

  it('sha512 only where the node allows it: the request never chooses the digest', async () => {
    const body = '{}';
    await expectPort(await gw.fetch('/sig/ports', { method: 'POST', body, headers: sign(keys.acme!, 'POST', '/sig/ports', body, { digest: 'sha512' }) }), 'ok');
    await expectProblem(await gw.fetch('/sig', { method: 'POST', body, headers: sign(keys.acme!, 'POST', '/sig', body, { digest: 'sha512' }) }), 401, 'invalid-signature');
  });

  it('a signature seen once is refused as a replay; unwired, replayed_signature', async () => {
    const headers = sign(keys.acme!, 'POST', '/sig', '{"n":1}');
    expect((await gw.fetch('/sig', { method: 'POST', body: '{"n":1}', headers })).status).toBe(200);
    await expectProblem(await gw.fetch('/sig', { method: 'POST', body: '{"n":1}', headers }), 401, 'replayed-signature');
    const wired = sign(keys.acme!, 'POST', '/sig/ports', '{"n":2}');
    await expectPort(await gw.fetch('/sig/ports', { method: 'POST', body: '{"n":2}', headers: wired }), 'ok');
    await expectPort(await gw.fetch('/sig/ports', { method: 'POST', body: '{"n":2}', headers: wired }), 'replayed');
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each<{ name: string; headers: () => Record<string, string>; port: string; slug: string }>([
    { name: 'no signature', headers: () => ({}), port: 'missing', slug: 'missing-signature' },
    { name: 'a wrong signature', headers: () => ({ signature: `keyId=${keys.acme!.id},ts=${now()},sig=${'0'.repeat(64)}` }), port: 'invalid', slug: 'invalid-signature' },
    { name: 'a timestamp 6 minutes old (skew 5m)', headers: () => sign(keys.acme!, 'POST', '/sig/ports', '', { ts: now() - 360 }), port: 'invalid', slug: 'invalid-signature' },
    { name: 'a timestamp 6 minutes ahead', headers: () => sign(keys.acme!, 'POST', '/sig/ports', '', { ts: now() + 360 }), port: 'invalid', slug: 'invalid-signature' },
    { name: 'an unknown key id', headers: () => sign({ id: 'hk_00000000', secret: keys.acme!.secret }, 'POST', '/sig/ports'), port: 'invalid', slug: 'invalid-signature' },
    { name: "another partner's secret under acme's key id", headers: () => sign({ id: keys.acme!.id, secret: keys.initech!.secret }, 'POST', '/sig/ports'), port: 'invalid', slug: 'invalid-signature' },
    { name: 'a malformed scheme (Stripe-like t=,v1=)', headers: () => ({ signature: `t=${now()},v1=${'a'.repeat(64)}` }), port: 'invalid', slug: 'invalid-signature' },
    { name: 'a non-hex signature', headers: () => ({ signature: `keyId=${keys.acme!.id},ts=${now()},sig=${'z'.repeat(64)}` }), port: 'invalid', slug: 'invalid-signature' },
    { name: 'a signature of odd length', headers: () => ({ signature: `keyId=${keys.acme!.id},ts=${now()},sig=${'a'.repeat(63)}` }), port: 'invalid', slug: 'invalid-signature' },
    { name: 'a 6 KB header', headers: () => ({ signature: `keyId=${keys.acme!.id},ts=${now()},sig=${'a'.repeat(6_000)}` }), port: 'invalid', slug: 'invalid-signature' },
    { name: 'a suspended partner', headers: () => sign(keys.globex!, 'POST', '/sig/ports'), port: 'suspended', slug: 'partner-suspended' },
    { name: 'a partner without the product', headers: () => sign(keys.initech!, 'POST', '/sig/ports'), port: 'unsubscribed', slug: 'product-not-subscribed' },
  ])('$name: wired, the $port port', async ({ headers, port }) => {
    await expectPort(await gw.fetch('/sig/ports', { method: 'POST', headers: headers() }), port);
  });

  it.each<{ name: string; headers: () => Record<string, string>; slug: string }>([
    { name: 'no signature', headers: () => ({}), slug: 'missing-signature' },
    { name: 'a wrong signature', headers: () => ({ signature: `keyId=${keys.acme!.id},ts=${now()},sig=${'0'.repeat(64)}` }), slug: 'invalid-signature' },
    { name: 'a stale timestamp', headers: () => sign(keys.acme!, 'POST', '/sig', '', { ts: now() - 3_600 }), slug: 'invalid-signature' },
  ])('unwired, $name answers $slug (401)', async ({ headers, slug }) => {
    await expectProblem(await gw.fetch('/sig', { method: 'POST', headers: headers() }), 401, slug);
  });

  it('reads the signature header once: an empty one is missing, a list of two is missing, a list of one is read', async () => {
    await expectPort(await gw.fetch('/sig/ports', { method: 'POST', headers: { signature: '' } }), 'missing');
    const signed = sign(keys.acme!, 'POST', '/sig/list');
    const once = new Headers([['set-cookie', signed.signature!]]);
    expect(await (await gw.fetch('/sig/list', { method: 'POST', headers: once })).json()).toEqual({ port: 'ok', partner: 'acme' });
    // fetch joins a repeated header into one value: node:http sends each line as given
    const signature = sign(keys.acme!, 'POST', '/sig/list?2').signature!;
    const twice = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${gw.url}/sig/list?2`, { method: 'POST', headers: { 'set-cookie': [signature, signature], 'content-length': '0' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject).end();
    });
    expect(twice.status).toBe(200);
    expect(JSON.parse(twice.body)).toEqual({ port: 'missing' });
  });

  it('reads at most 512 characters of header: spaces the scheme allows cannot stretch a signature past it', async () => {
    const spaced = (signature: string, length: number) => {
      const [keyId, rest] = signature.split(/,(?=ts=)/) as [string, string];
      return `${keyId},${' '.repeat(length - signature.length)}${rest}`;
    };
    const at = sign(keys.acme!, 'POST', '/sig/ports?at').signature!;
    expect(spaced(at, 512)).toHaveLength(512);
    await expectPort(await gw.fetch('/sig/ports?at', { method: 'POST', headers: { signature: spaced(at, 512) } }), 'ok');
    const over = sign(keys.acme!, 'POST', '/sig/ports?over').signature!;
    await expectPort(await gw.fetch('/sig/ports?over', { method: 'POST', headers: { signature: spaced(over, 513) } }), 'invalid');
    // the scheme is the whole header: nothing before keyId
    await expectPort(await gw.fetch('/sig/ports?prefixed', { method: 'POST', headers: { signature: `x${sign(keys.acme!, 'POST', '/sig/ports?prefixed').signature!}` } }), 'invalid');
  });

  it('a request without a body is signed over the hash of nothing, and identifies the partner with no scopes', async () => {
    const res = await gw.fetch('/sig/get?q=1', { headers: sign(keys.acme!, 'GET', '/sig/get?q=1') });
    expect(await res.json()).toEqual({ partner: 'acme', scopes: [] });
  });

  it('a secret rotated with no overlap is refused at once, the new one accepted', async () => {
    expect((await admin('publisher', 'POST', '/partners', { id: 'hooli', name: 'hooli', products: ['hooks'] })).status).toBe(201);
    const old = await createSecret('hooli');
    const rotated = await admin('publisher', 'POST', `/partners/hooli/hmac-secrets/${old.id}/rotate`, { overlap: '0s' });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
    secrets.push(rotated.body.secret as string);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    await expectPort(await gw.fetch('/sig/ports?old', { method: 'POST', headers: sign(old, 'POST', '/sig/ports?old') }), 'invalid');
    const fresh = { id: rotated.body.id as string, secret: rotated.body.secret as string };
    expect(await (await gw.fetch('/sig/ports?new', { method: 'POST', headers: sign(fresh, 'POST', '/sig/ports?new') })).json()).toEqual({ port: 'ok', partner: 'hooli' });
  });

  it('rotation keeps the old secret for the overlap; revocation refuses it from the next request on', async () => {
    const rotated = await admin('publisher', 'POST', `/partners/acme/hmac-secrets/${keys.acme!.id}/rotate`, { overlap: '1h' });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
    expect(rotated.body).toMatchObject({ replaced: keys.acme!.id, partner: 'acme' });
    secrets.push(rotated.body.secret as string);
    const fresh = { id: rotated.body.id as string, secret: rotated.body.secret as string };
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    expect((await gw.fetch('/sig', { method: 'POST', headers: sign(keys.acme!, 'POST', '/sig') })).status).toBe(200);
    expect((await gw.fetch('/sig?new', { method: 'POST', headers: sign(fresh, 'POST', '/sig?new') })).status).toBe(200);
    expect((await admin('publisher', 'POST', `/partners/acme/hmac-secrets/${keys.acme!.id}/revoke`, { reason: 'rotated' })).status).toBe(200);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    await expectProblem(await gw.fetch('/sig?after', { method: 'POST', headers: sign(keys.acme!, 'POST', '/sig?after') }), 401, 'invalid-signature');
    const listed = await admin('viewer', 'GET', '/partners/acme');
    expect(listed.body.hmacSecrets).toEqual([
      expect.objectContaining({ id: keys.acme!.id, state: 'revoked' }),
      expect.objectContaining({ id: fresh.id, state: 'active' }),
    ]);
    // an editor may not create secrets
    expect((await admin('editor', 'POST', '/partners/acme/hmac-secrets', {})).status).toBe(403);
  });

  it('no secret appears in any admin answer after its creation, in the audit log, or in a log line', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const answers = [await admin('viewer', 'GET', '/partners'), await admin('admin', 'GET', '/partners/acme'), await admin('admin', 'GET', '/audit?limit=500')];
    for (const answer of answers) expect(answer.status).toBe(200);
    const seen = JSON.stringify(answers.map((a) => a.body)) + JSON.stringify(gw.logs);
    for (const secret of secrets) expect(seen).not.toContain(secret);
    expect(seen).toContain(keys.acme!.id); // the key id is shown: it is not secret
  });
});

const redisUp = await sharedRedisAvailable();

describe.runIf(redisUp)('hmac-verify on two replicas sharing Redis', () => {
  const prefix = testPrefix('hmac');
  const replicas: TestGateway[] = [];
  let key: { id: string; secret: string };

  beforeAll(async () => {
    const route = workflow('sig-shared', { path: '/sig/shared', methods: ['POST'] }, [{ id: 'sig', kind: 'hmac-verify' }, whoNode], [['sig', 'ok', 'who']]);
    const settings = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SLUICE_RATE_LIMIT_TIMEOUT_MS: '1000' };
    replicas.push(await startGateway([route], { demo: false, settings }));
    replicas.push(await startGateway([route], { demo: false, settings }));
    const changes = createPartners({ store: replicas[0]!.sluice.store });
    await changes.createPartner({ name: 'test', role: 'admin' }, 'acme', { name: 'acme', contacts: [], products: [], clientIds: [], limits: {} });
    key = await changes.createHmacSecret({ name: 'test', role: 'admin' }, 'acme');
    const revision = (await replicas[0]!.sluice.store.state()).revision;
    for (const r of replicas) await r.sluice.registry.whenApplied(revision);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('a signature accepted by one replica is refused as a replay by the other', async () => {
    const [a, b] = replicas as [TestGateway, TestGateway];
    const headers = sign(key, 'POST', '/sig/shared', '{"event":"paid"}');
    const first = await a.fetch('/sig/shared', { method: 'POST', body: '{"event":"paid"}', headers });
    expect(first.status, await first.clone().text()).toBe(200);
    await expectProblem(await b.fetch('/sig/shared', { method: 'POST', body: '{"event":"paid"}', headers }), 401, 'replayed-signature');
    // b accepts a signature of its own, which a then refuses
    const other = sign(key, 'POST', '/sig/shared', '{"event":"refunded"}');
    expect((await b.fetch('/sig/shared', { method: 'POST', body: '{"event":"refunded"}', headers: other })).status).toBe(200);
    await expectProblem(await a.fetch('/sig/shared', { method: 'POST', body: '{"event":"refunded"}', headers: other }), 401, 'replayed-signature');
  });
});

describe.runIf(redisUp)('hmac-verify while its Redis is down', () => {
  let redis: OwnedRedis;
  let gw: TestGateway;
  let key: { id: string; secret: string };

  beforeAll(async () => {
    redis = await startOwnedRedis();
    const route = workflow('sig-down', { path: '/sig/down', methods: ['POST'] }, [{ id: 'sig', kind: 'hmac-verify' }, whoNode], [['sig', 'ok', 'who']]);
    gw = await startGateway([route], { demo: false, settings: { REDIS_URL: redis.url, REDIS_PREFIX: testPrefix('hmac-down'), SLUICE_RATE_LIMIT_TIMEOUT_MS: '1000' } });
    const changes = createPartners({ store: gw.sluice.store });
    await changes.createPartner({ name: 'test', role: 'admin' }, 'acme', { name: 'acme', contacts: [], products: [], clientIds: [], limits: {} });
    key = await changes.createHmacSecret({ name: 'test', role: 'admin' }, 'acme');
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await redis?.close();
  });

  it('fails closed: a valid signature is refused while a replay cannot be ruled out, and accepted again once Redis is back', async () => {
    expect((await gw.fetch('/sig/down', { method: 'POST', headers: sign(key, 'POST', '/sig/down?1') })).status).toBe(401); // signed for another path
    expect((await gw.fetch('/sig/down?1', { method: 'POST', headers: sign(key, 'POST', '/sig/down?1') })).status).toBe(200);
    await redis.stop();
    await expectProblem(await gw.fetch('/sig/down?2', { method: 'POST', headers: sign(key, 'POST', '/sig/down?2') }), 401, 'invalid-signature');
    await redis.start();
    const headers = sign(key, 'POST', '/sig/down?3');
    for (let i = 0; ; i++) {
      const res = await gw.fetch('/sig/down?3', { method: 'POST', headers });
      if (res.status === 200) break;
      expect(i, 'accepted again within 10 s of Redis being back').toBeLessThan(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 30_000);
});

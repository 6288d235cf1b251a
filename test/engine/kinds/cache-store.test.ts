import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { startGateway, workflow } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';

describeKind('cache-store', {
  minimal: { config: { name: 'orders' }, parsed: { name: 'orders', ttl: '60s', stale: '0s', maxBytes: 1024 * 1024, entries: 10_000 } },
  accepts: [['a short ttl and small bounds', { name: 'orders', ttl: '300ms', maxBytes: 10, entries: 1 }]],
  refuses: [
    ['no name', {}, ['name']],
    ['a ttl over a day', { name: 'a', ttl: '2d' }, ['ttl']],
    ['a zero ttl', { name: 'a', ttl: '0s' }, ['ttl']],
    ['stale for over a day', { name: 'a', stale: '25h' }, ['stale']],
    ['no entries', { name: 'a', entries: 0 }, ['entries']],
    ['an entry over 10 MB', { name: 'a', maxBytes: 10 * 1024 * 1024 + 1 }, ['maxBytes']],
    ['an unknown field', { name: 'a', key: 'x' }, ['key']],
  ],
});

describe('cache-store', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  const calls = (url: string) => upstream.received.filter((r) => r.url === url).length;
  const body = async (path: string) => (await gw.fetch(path)).text();
  beforeAll(async () => {
    let n = 0;
    upstream = await startUpstream((req, res) => {
      n++;
      const size = req.url!.startsWith('/big') ? 2048 : 10;
      const text = `${String(n).padStart(size, '0')}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': req.url!.includes('maxage1') ? 'max-age=1' : 'public' });
      res.end(text);
    });
    const lookup = (name: string, wait = '5s') => ({ id: 'lookup', kind: 'cache-lookup', config: { name, wait } });
    const call = { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } };
    gw = await startGateway(
      [
        // the proxy's ok port unwired: the answer is streamed, never stored (the key's flight ends with the request)
        workflow('streamed', { path: '/streamed' }, [lookup('streamed', '100ms'), call], [['lookup', 'miss', 'call']]),
        workflow('bounded', { path: '/:what' }, [lookup('bounded'), call, { id: 'store', kind: 'cache-store', config: { name: 'bounded', ttl: '1h', maxBytes: 1024, entries: 2 } }], [
          ['lookup', 'miss', 'call'],
          ['call', 'ok', 'store'],
        ]),
      ],
      { env: { UPSTREAM: upstream.url } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('stores nothing without a cache-store (a streamed answer)', async () => {
    expect(await body('/streamed')).not.toBe(await body('/streamed'));
  });

  it('does not store a body over maxBytes', async () => {
    expect(await body('/big')).not.toBe(await body('/big'));
    expect(calls('/big')).toBe(2);
  });

  it('keeps at most `entries` answers per cache, evicting the least recently used', async () => {
    const a = await body('/a');
    const b = await body('/b');
    expect(await body('/a')).toBe(a); // a is now the most recently used
    await body('/c'); // evicts b
    expect(await body('/a')).toBe(a);
    expect(await body('/b')).not.toBe(b);
    expect(calls('/a')).toBe(1);
  });

  it('lets Cache-Control max-age cap the ttl', async () => {
    const first = await body('/maxage1');
    expect(await body('/maxage1')).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await body('/maxage1')).not.toBe(first);
  });
});

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { UpstreamMock } from '../../shared/schema/preview.ts';

const PREFIX = '/__sluice_mock/';
let server: Promise<{ origin: string; server: Server }> | undefined;
const mocks = new Map<string, UpstreamMock>();

function start() {
  server ??= new Promise((resolve, reject) => {
    const s = createServer((req, res) => {
      const url = req.url ?? '/';
      const id = url.startsWith(PREFIX) ? url.slice(PREFIX.length).split(/[/?]/)[0]! : '';
      const mock = mocks.get(id);
      req.resume();
      if (!mock) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such mock');
      const text = mock.body === undefined ? '' : typeof mock.body === 'string' ? mock.body : JSON.stringify(mock.body);
      const headers: Record<string, string> = { ...(typeof mock.body === 'object' && mock.body !== null ? { 'content-type': 'application/json' } : {}), ...mock.headers };
      res.writeHead(mock.status, { ...headers, 'content-length': String(Buffer.byteLength(text)) }).end(text);
    });
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve({ origin: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, server: s }));
  });
  return server;
}

/**
 * A mocked upstream for one simulation: a base URL that answers `mock` to whatever the proxy
 * nodes send, on an in-process server shared by every simulation (each gets its own path).
 * The proxy runtime runs for real against it: headers, paths and timeouts as in production.
 */
export async function mockUpstream(mock: UpstreamMock): Promise<{ url: string; release(): void }> {
  const { origin } = await start();
  const id = randomBytes(8).toString('hex');
  mocks.set(id, mock);
  return { url: `${origin}${PREFIX}${id}`, release: () => mocks.delete(id) };
}

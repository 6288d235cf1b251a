// Baseline: the least a Node reverse proxy can do — node:http in, undici Pool out, body streamed.
// Whatever Sluice costs on top of this is the price of the workflow engine, not of Node itself.
// Usage: bare-proxy.ts <upstream origin>. Prints `LISTENING <port>` on stdout once bound.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';

const origin = process.argv[2];
if (!origin) throw new Error('usage: bare-proxy.ts <upstream origin>');

// Same pooling a production gateway would use: keep-alive, plenty of sockets for 50 client connections.
const pool = new Pool(origin, { connections: 128 });

// RFC 9110 §7.6.1: connection-specific headers are not forwarded. `host` is dropped too so that
// undici sends the upstream's own host, as Sluice's proxy node does by default.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

function forwardableHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '').toLowerCase().split(',').map((h) => h.trim());
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.includes(name)) out[name] = value;
  }
  return out;
}

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  try {
    const upstream = await pool.request({
      method: req.method as Dispatcher.HttpMethod,
      path: req.url ?? '/',
      headers: forwardableHeaders(req.headers),
      body: hasBody ? req : null,
    });
    res.writeHead(upstream.statusCode, forwardableHeaders(upstream.headers));
    // .pipe(), not stream.pipeline(): on Node 20 pipeline() aborts an internal AbortController
    // per call, building a DOMException with a stack trace, which halved this proxy's req/s.
    // The wiring pipeline() would do, done by hand: a mid-body upstream failure must reach the
    // client as a broken response (not a short one), and a client that goes away must release
    // the pooled upstream connection.
    upstream.body.once('error', (err) => res.destroy(err));
    if (res.destroyed) upstream.body.destroy(); // the client left while we waited for the upstream
    else res.once('close', () => upstream.body.destroy());
    upstream.body.pipe(res);
  } catch (err) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`bad gateway: ${(err as Error).message}`);
  }
}

const server = createServer((req, res) => void forward(req, res));
server.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});

// run.ts keeps our stdin open; if it dies without killing us (SIGKILL), stdin ends and we go too.
process.stdin.on('end', () => process.exit(0)).resume();

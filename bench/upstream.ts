// The benchmark's upstream: answers every request 200 with a fixed small JSON body.
// Kept trivial so that it costs far less than whatever proxy sits in front of it.
// POST /introspect plays the authorization server of sluice-i (RFC 7662): every token is active
// for the bench's partner, for two hours; the gateway asks once and answers from its cache after.
// Prints `LISTENING <port>` on stdout once bound, which run.ts waits for.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = Buffer.from(JSON.stringify({ orders: [{ id: 1, total: 42 }, { id: 2, total: 7 }] }));
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

const server = createServer((req, res) => {
  req.resume(); // drain any request body so the keep-alive connection can be reused
  if (req.method === 'POST' && req.url === '/introspect') {
    const body = JSON.stringify({ active: true, client_id: 'acme', scope: 'orders:read', sub: 'bench-user', exp: Math.floor(Date.now() / 1000) + 7200 });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
    return;
  }
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
// Proxies hold pooled connections open between load runs; don't drop them after the 5 s default.
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});

// run.ts keeps our stdin open; if it dies without killing us (SIGKILL), stdin ends and we go too.
process.stdin.on('end', () => process.exit(0)).resume();

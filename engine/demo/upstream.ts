import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const ORDERS = [
  { id: 'ord-1001', customer: 'acme', total: 129.5, currency: 'EUR', status: 'shipped', internalNote: 'priority lane' },
  { id: 'ord-1002', customer: 'acme', total: 42, currency: 'EUR', status: 'processing', internalNote: 'gift wrap' },
  { id: 'ord-1003', customer: 'globex', total: 980, currency: 'USD', status: 'delivered', internalNote: 'fragile' },
];

/**
 * A small upstream for the embedded default: an orders service on 127.0.0.1 at a port the
 * system picks, so several gateways run side by side. It also echoes what it received.
 */
export async function startDemoUpstream(listen: { port?: number; host?: string } = {}): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (url.pathname === '/orders') return send(200, { orders: ORDERS });
    const one = /^\/orders\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const order = ORDERS.find((o) => o.id === decodeURIComponent(one[1]!));
      return order ? send(200, order) : send(404, { message: 'no such order' });
    }
    if (url.pathname.startsWith('/echo')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => send(200, { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
      return;
    }
    send(404, { message: 'not found' });
  });
  server.keepAliveTimeout = 30_000;
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

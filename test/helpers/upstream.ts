import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the test upstream received. */
interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type UpstreamHandler = (req: IncomingMessage & { bodyText: string }, res: ServerResponse) => void;

export interface TestUpstream {
  url: string;
  server: Server;
  received: ReceivedRequest[];
  /** Replaces how the upstream answers (default: 200 JSON echo of what it received). */
  handle(handler: UpstreamHandler): void;
  close(): Promise<void>;
}

const echo: UpstreamHandler = (req, res) => {
  const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: req.bodyText, orders: [{ id: 1, total: 42, secret: 'x' }] });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': 'test' });
  res.end(body);
};

/** A real HTTP upstream on 127.0.0.1 that records every request it gets. */
export async function startUpstream(handler: UpstreamHandler = echo): Promise<TestUpstream> {
  const received: ReceivedRequest[] = [];
  let current = handler;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bodyText = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: bodyText });
      current(Object.assign(req, { bodyText }), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    received,
    handle(next) {
      current = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

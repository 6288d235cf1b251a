import { Agent, request, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startUpstream, type TestUpstream } from './upstream.ts';

/*
 * What the graceful-shutdown tests share: an upstream that holds requests until told to answer,
 * one HTTP request with its connection in view, a load loop that counts every answer, and a
 * round-robin TCP balancer that drops a backend whose /readyz says 503, as a Kubernetes Service
 * does with a pod that is not ready (connections, not requests, are balanced, as kube-proxy does).
 */

/** An upstream on 127.0.0.1: `/slow…` waits until `release()` (or `slowMs`, if given), anything else answers at once. */
export interface HeldUpstream {
  url: string;
  /** Slow requests received so far. */
  readonly held: number;
  /** Answers the slow requests waiting now and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

export async function startHeldUpstream(options: { slowMs?: number } = {}): Promise<HeldUpstream> {
  const waiting: ServerResponse[] = [];
  let held = 0;
  let released = false;
  const answer = (res: ServerResponse, body: string) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const upstream: TestUpstream = await startUpstream((req, res) => {
    if (!req.url?.startsWith('/slow')) return answer(res, '{"fast":true}');
    held++;
    if (released) answer(res, '{"slow":true}');
    else if (options.slowMs !== undefined) setTimeout(() => answer(res, '{"slow":true}'), options.slowMs);
    else waiting.push(res);
  });
  return {
    url: upstream.url,
    get held() {
      return held;
    },
    release() {
      released = true;
      for (const res of waiting.splice(0)) answer(res, '{"slow":true}');
    },
    close: () => upstream.close(),
  };
}

/** A proxy workflow to an upstream named by an environment variable, with a timeout far above any hold. */
export const proxyWorkflow = (id: string, path: string, variable: string) => ({
  id,
  name: id,
  route: { methods: ['GET'], path },
  nodes: [{ id: 'call', kind: 'proxy', config: { url: `\${${variable}}`, timeout: '5m' } }],
  edges: [],
});

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One GET asking to keep the connection alive, on `agent`, or else on a new connection of its own
 * (closed by this side once answered); rejects on a connection error.
 */
export function get(url: string, agent?: Agent, onSocket?: (socket: Socket) => void): Promise<Answer> {
  const own = agent === undefined ? new Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
  return new Promise<Answer>((resolve, reject) => {
    const req = request(url, { agent: agent ?? own }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => void (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    if (onSocket) req.once('socket', onSocket);
    req.on('error', reject);
    req.end();
  }).finally(() => own?.destroy());
}

/** What a load loop counted. */
export interface LoadCount {
  ok: number;
  failed: number;
  /** Answers that said `Connection: close`. */
  closing: number;
  /** The first few failures, for the message of a failing assertion. */
  errors: string[];
}

/**
 * Steady load: `fast` loops on `fastPath` and `slow` loops on `slowPath`, each its own keep-alive
 * client sharing one agent (connections reused first-in first-out, so every idle one is taken
 * again soon), until `stop()`; every answer other than 200, and every error, is a failure.
 */
export function startLoad(base: string, options: { fast: number; slow: number; fastPath: string; slowPath: string }) {
  const agent = new Agent({ keepAlive: true, maxSockets: options.fast + options.slow, scheduling: 'fifo' });
  const count: LoadCount = { ok: 0, failed: 0, closing: 0, errors: [] };
  let running = true;
  const loop = async (path: string) => {
    while (running) {
      try {
        const answer = await get(`${base}${path}`, agent);
        if (answer.status === 200) count.ok++;
        else {
          count.failed++;
          if (count.errors.length < 5) count.errors.push(`${path}: ${answer.status} ${answer.body.slice(0, 200)}`);
        }
        if (answer.headers.connection === 'close') count.closing++;
      } catch (error) {
        count.failed++;
        if (count.errors.length < 5) count.errors.push(`${path}: ${(error as Error).message}`);
      }
    }
  };
  const loops = [...Array.from({ length: options.fast }, () => loop(options.fastPath)), ...Array.from({ length: options.slow }, () => loop(options.slowPath))];
  return {
    count,
    /** Stops sending; resolves when every request sent has been answered. */
    async stop(): Promise<LoadCount> {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return count;
    },
  };
}

/** One backend of the balancer: where it listens, and what the balancer has seen of it. */
interface Backend {
  name: string;
  port: number;
  ready: boolean;
}

export interface Balancer {
  url: string;
  /** What happened, in order: `name ready`, `name not ready (503)`, `name not ready (error)`, `name removed`. */
  events: string[];
  add(name: string, url: string): void;
  remove(name: string): void;
  /** Client connections handed to a backend so far (also after it was removed). */
  connectionsTo(name: string): number;
  close(): Promise<void>;
}

/**
 * A round-robin TCP balancer on 127.0.0.1 over the backends that last answered /readyz with 200,
 * asked every `pollMs` on a connection of its own. A client connection goes whole to one ready
 * backend; it is never retried elsewhere, so a backend that refuses it fails the client's request.
 */
export async function startBalancer(options: { pollMs: number }): Promise<Balancer> {
  const backends = new Map<string, Backend>();
  const handed = new Map<string, number>();
  const events: string[] = [];
  let next = 0;
  const mark = (backend: Backend, ready: boolean, why: string) => {
    if (backend.ready === ready) return;
    backend.ready = ready;
    events.push(ready ? `${backend.name} ready` : `${backend.name} not ready (${why})`);
  };
  const poll = setInterval(() => {
    for (const backend of backends.values())
      get(`http://127.0.0.1:${backend.port}/readyz`).then(
        (answer) => backends.has(backend.name) && mark(backend, answer.status === 200, String(answer.status)),
        () => backends.has(backend.name) && mark(backend, false, 'error'),
      );
  }, options.pollMs);
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    const ready = [...backends.values()].filter((b) => b.ready);
    if (ready.length === 0) return client.destroy();
    const backend = ready[next++ % ready.length]!;
    handed.set(backend.name, (handed.get(backend.name) ?? 0) + 1);
    const upstream = connect(backend.port, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events,
    add(name, url) {
      backends.set(name, { name, port: Number(new URL(url).port), ready: false });
    },
    remove(name) {
      backends.delete(name);
      events.push(`${name} removed`);
    },
    connectionsTo: (name) => handed.get(name) ?? 0,
    close: () =>
      new Promise((resolve) => {
        clearInterval(poll);
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

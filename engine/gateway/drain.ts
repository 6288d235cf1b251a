import { ServerResponse, type Server } from 'node:http';

/** What /readyz says: `starting` until the first store sync, `ready`, then `draining` from the start of a shutdown. */
export type Readiness = 'starting' | 'ready' | 'draining';

/** How a shutdown went: connections still open when the grace ran out, cut. */
interface DrainOutcome {
  cut: number;
}

export interface Drain {
  readonly readiness: Readiness;
  /** True from the start of a shutdown: every answer whose head is written from then on says `Connection: close`. */
  readonly draining: boolean;
  /** The first store sync is done: /readyz answers 200. */
  ready(): void;
  /**
   * Shuts a server down without dropping a request. At once readiness turns 503 and every answer
   * written from then on says `Connection: close`; new connections are still accepted for
   * `delayMs`, so load balancers that poll /readyz (or a Service's endpoints) stop sending first;
   * then the listener closes, idle keep-alive connections close, and the requests in flight finish,
   * each connection closing after its answer. A connection still open `graceMs` after the
   * listener closed is cut. Calling it again returns the first call's promise.
   *
   * @example
   * process.once('SIGTERM', () => void drain.shutdown(server, { delayMs: 5_000, graceMs: 20_000 }).then(() => process.exit(0)));
   */
  shutdown(server: Server, options: { delayMs: number; graceMs: number; onListenerClosed?: () => void }): Promise<DrainOutcome>;
  /**
   * The response class for `http.createServer({ ServerResponse })`: it marks an answer
   * `Connection: close` when its head is written during a drain (also one whose request came in
   * before the drain began), one boolean read per answer.
   */
  readonly responseClass: typeof ServerResponse;
  /**
   * Gives a response prototype the same writeHead: Express replaces each response's prototype
   * with its app's (`app.response`), which would skip the response class's.
   */
  closeAfterAnswers(prototype: object): void;
}

/** How often idle connections are closed while in-flight requests finish: an answer whose head went out before the drain leaves its connection idle, not closed. */
const SWEEP_MS = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The readiness of one server and its graceful shutdown (SLUICE_SHUTDOWN_DELAY, SLUICE_SHUTDOWN_GRACE). */
export function createDrain(): Drain {
  let readiness: Readiness = 'starting';
  let shutdown: Promise<DrainOutcome> | undefined;
  let draining = false;
  const writeHead = ServerResponse.prototype.writeHead as (this: ServerResponse, statusCode: number, reason?: unknown, headers?: unknown) => ServerResponse;
  // writeHead, because Node writes an implicit head through it too (res.write/res.end without one);
  // three fixed parameters (Node's own), not a rest array, to allocate nothing per answer
  function drainAwareWriteHead(this: ServerResponse, statusCode: number, reason?: unknown, headers?: unknown) {
    if (draining) this.shouldKeepAlive = false;
    return writeHead.call(this, statusCode, reason, headers);
  }
  const closeAfterAnswers = (prototype: object) => Object.defineProperty(prototype, 'writeHead', { value: drainAwareWriteHead, writable: true, configurable: true });
  class DrainAwareResponse extends ServerResponse {}
  closeAfterAnswers(DrainAwareResponse.prototype);

  async function run(server: Server, options: { delayMs: number; graceMs: number; onListenerClosed?: () => void }): Promise<DrainOutcome> {
    readiness = 'draining';
    draining = true;
    if (options.delayMs > 0) await sleep(options.delayMs);
    // close() stops accepting and closes the connections idle now; it calls back once every connection is gone
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    options.onListenerClosed?.();
    const sweep = setInterval(() => server.closeIdleConnections(), SWEEP_MS);
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => (graceTimer = setTimeout(resolve, options.graceMs, 'grace')));
    try {
      if ((await Promise.race([closed, graceOver])) !== 'grace') return { cut: 0 };
      const cut = await new Promise<number>((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
      server.closeAllConnections();
      await closed;
      return { cut };
    } finally {
      clearInterval(sweep);
      clearTimeout(graceTimer);
    }
  }

  return {
    get readiness() {
      return readiness;
    },
    get draining() {
      return draining;
    },
    ready() {
      if (readiness === 'starting') readiness = 'ready';
    },
    shutdown(server, options) {
      shutdown ??= run(server, options);
      return shutdown;
    },
    responseClass: DrainAwareResponse as typeof ServerResponse,
    closeAfterAnswers,
  };
}

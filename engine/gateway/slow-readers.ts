import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';

/**
 * Answers up to this size go out in one write: the kernel's socket buffer takes them whole, so
 * a client that does not read holds no memory of ours. Larger ones go out in pieces of this
 * size, one after another as the client takes them: what is unsent stays the one answer of
 * ours (not copies of it in the socket's queue), and each piece taken is progress the send
 * timeout sees.
 */
export const ANSWER_PIECE = 64 * 1024;

/** Why a connection was closed for not reading its answers. */
type SlowReaderReason = 'send_timeout' | 'buffer_limit';

/** What sending a buffered answer came to. */
export type BufferedSend = 'sent' | 'too_large' | 'not_reading';

export interface SlowReaderOptions {
  /** Most answer bytes held in memory for one connection (SLUICE_MAX_BUFFERED_ANSWER). */
  maxBufferedBytes: number;
  /** Longest an answer may stay unsent without a byte of it taken (SLUICE_SEND_TIMEOUT). */
  sendTimeoutMs: number;
  logger: Logger;
}

export interface SlowReaderGuard {
  readonly maxBufferedBytes: number;
  /** Watches the connections of a server: a stalled answer closes its connection after the send timeout. */
  watch(server: Server): void;
  /**
   * Sends an answer the gateway built (respond, transforms) that is large or queued behind an
   * earlier answer on a pipelined connection: refused over the bound before anything is written
   * ('too_large'), the connection closed when its unsent answers would exceed the bound
   * ('not_reading'), else written in pieces as the client reads.
   */
  send(req: IncomingMessage, res: ServerResponse, status: number, headers: OutgoingHttpHeaders, payload: string | Buffer, bytes: number): BufferedSend;
  /** Connections closed so far, by reason (for /metrics). */
  readonly closed: Readonly<Record<SlowReaderReason, number>>;
  close(): void;
}

/** Per connection: answer bytes held for it and not yet handed to the socket. */
const HELD = Symbol('heldAnswerBytes');
/** Per connection: bytes the socket had sent at the last sweep, and when that last changed. */
const SENT = Symbol('sentBytes');
const SINCE = Symbol('sentSince');
/** Per answer: its bytes still counted in its connection's HELD. */
const HOLDS = Symbol('holdsBytes');

type Watched = Socket & { [HELD]: number; [SENT]: number; [SINCE]: number };
type Held = ServerResponse & { [HOLDS]: number };

/** An answer is over: what it still held is its connection's no longer. */
function release(this: Held): void {
  const socket = this.req.socket as Watched;
  socket[HELD] -= this[HOLDS];
  this[HOLDS] = 0;
}

/**
 * The defence against slow readers: clients that ask for answers and never read them (or read
 * them a byte at a time), which would otherwise keep every such answer in memory, and its
 * connection open, for as long as they like. Two bounds: the answer bytes held for one
 * connection (checked when a built answer is written, so pipelined requests count together),
 * and the time an answer may stay unsent without progress (swept once a second over all
 * connections, nothing per request). Streamed answers (a proxy) already pause the upstream while
 * the client's socket is full; the send timeout closes them too when the client stops reading.
 */
export function createSlowReaderGuard(options: SlowReaderOptions): SlowReaderGuard {
  const { maxBufferedBytes, sendTimeoutMs, logger } = options;
  const connections = new Set<Watched>();
  const closed: Record<SlowReaderReason, number> = { send_timeout: 0, buffer_limit: 0 };
  let timer: NodeJS.Timeout | undefined;

  function forget(this: Watched): void {
    connections.delete(this);
  }

  function onConnection(socket: Socket): void {
    const watched = socket as Watched;
    // set once, at the same point for every socket: one shape for all of them
    watched[HELD] = 0;
    watched[SENT] = 0;
    watched[SINCE] = 0;
    connections.add(watched);
    socket.once('close', forget);
  }

  function sweep(): void {
    const now = performance.now();
    let stalled = 0;
    let unsent = 0;
    for (const socket of connections) {
      const pending = socket.writableLength;
      if (pending === 0) {
        socket[SINCE] = 0;
        continue;
      }
      // bytes the kernel has taken: what was written, less what still waits in the socket's queue
      const sent = socket.bytesWritten - pending;
      if (socket[SINCE] === 0 || sent !== socket[SENT]) {
        socket[SENT] = sent;
        socket[SINCE] = now;
        continue;
      }
      if (now - socket[SINCE] < sendTimeoutMs) continue;
      stalled++;
      unsent += pending + socket[HELD];
      socket.destroy();
    }
    if (stalled > 0) {
      closed.send_timeout += stalled;
      // one line per sweep, not per connection: a flood of slow readers must not flood the log
      logger.warn({ connections: stalled, unsentBytes: unsent, reason: 'send_timeout', sendTimeoutMs }, 'closed connections that did not read their answers');
    }
  }

  /**
   * Writes a large answer a piece at a time, the next when the socket drains. A string is cut
   * into slices of itself (no copy of the whole), never between the two halves of a surrogate
   * pair, so the pieces' bytes add up to the content-length.
   */
  function writeInPieces(res: Held, payload: string | Buffer): void {
    const socket = res.req.socket as Watched;
    const length = payload.length;
    let offset = 0;
    const next = (): void => {
      while (offset < length) {
        let end = Math.min(offset + ANSWER_PIECE, length);
        let piece: string | Buffer;
        if (typeof payload === 'string') {
          const last = payload.charCodeAt(end - 1);
          if (end < length && last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate: its low half goes with it
          piece = payload.slice(offset, end);
        } else piece = payload.subarray(offset, end);
        offset = end;
        const taken = typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length;
        socket[HELD] -= taken;
        res[HOLDS] -= taken;
        if (offset === length) {
          res.end(piece);
          return;
        }
        if (!res.write(piece)) {
          if (!res.destroyed) res.once('drain', next);
          return;
        }
      }
    };
    next();
  }

  return {
    maxBufferedBytes,
    closed,
    watch(server) {
      // over TLS the answers are written to the TLS socket (req.socket), which the handshake makes of the TCP one
      server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', onConnection);
      timer ??= setInterval(sweep, Math.min(1_000, Math.max(50, Math.floor(sendTimeoutMs / 4)))).unref();
    },
    send(req, res, status, headers, payload, bytes) {
      if (bytes > maxBufferedBytes) return 'too_large';
      const socket = req.socket as Watched;
      const held = socket[HELD] ?? 0; // a socket not watched (a server without watch()) holds nothing yet
      if (held + bytes > maxBufferedBytes) {
        closed.buffer_limit++;
        logger.warn({ heldBytes: held, answerBytes: bytes, maxBufferedBytes, reason: 'buffer_limit' }, 'closed a connection whose unread answers exceed SLUICE_MAX_BUFFERED_ANSWER');
        socket.destroy();
        return 'not_reading';
      }
      const answer = res as Held;
      socket[HELD] = held + bytes;
      answer[HOLDS] = bytes;
      answer.once('close', release);
      res.writeHead(status, headers);
      if (bytes <= ANSWER_PIECE) res.end(payload);
      else writeInPieces(answer, payload);
      return 'sent';
    },
    close() {
      clearInterval(timer);
      timer = undefined;
      connections.clear();
    },
  };
}

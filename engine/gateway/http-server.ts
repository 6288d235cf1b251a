import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { RESERVED_PREFIXES } from '../../shared/compile/index.ts';
import type { Settings } from '../config.ts';
import type { Drain } from './drain.ts';
import type { Gateway } from './gateway.ts';
import { rawProblem, writeProblem, type ProblemRenderer } from './problem.ts';
import { traceContextOf } from './trace.ts';

/** Whether a URL is under a reserved prefix (the prefix itself, or it followed by `/` or `?`). */
const isUnder = (url: string, p: string) => url.startsWith(p) && (url.length === p.length || url[p.length] === '/' || url[p.length] === '?');
/** Whether a request URL is the control plane's (the reserved prefixes), not gateway traffic. */
const isControl = (url: string) => RESERVED_PREFIXES.some((p) => isUnder(url, p));

/**
 * A raw HTTP answer for requests Node refuses before they reach a handler (headers too large, bad
 * framing), and for CONNECT, which no route answers: 405 with an empty Allow (RFC 9110 10.2.1).
 */
function refusedRaw(problems: ProblemRenderer, code: string | undefined): string {
  const id = code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : code === 'CONNECT' ? 'method_not_allowed' : 'bad_request';
  const problem = problems.render(id, { instance: '/', traceId: traceContextOf(undefined, undefined).traceId, params: { reason: 'the request could not be parsed' } });
  return rawProblem(problem, id === 'method_not_allowed' ? { allow: '' } : undefined);
}

/** Ends a socket with a raw problem answer, or drops it when it can no longer be written. */
function endRaw(socket: Socket, problems: ProblemRenderer, code: string | undefined): void {
  if (socket.writable && !socket.destroyed) socket.end(refusedRaw(problems, code));
  else socket.destroy();
}

/** The listener's certificate and key (PEM), and the client CAs when partners present certificates. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  clientCa: Buffer | undefined;
}

/**
 * HTTPS options: with client CAs, every client is asked for a certificate, and one that is absent
 * or fails verification does not end the handshake: the client-cert node answers the catalog's
 * problem instead of a TLS alert the client cannot read (the socket says whether it verified).
 */
function tlsOptions(tls: TlsMaterial) {
  return { cert: tls.cert, key: tls.key, ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }) };
}

/**
 * The one HTTP server of a Sluice process: control-plane paths go to the control app, the rest to
 * the gateway; a request Node cannot parse, an HTTP/1.1 request without Host and CONNECT get a
 * problem answer and the connection closes. With a drain, answers written while it drains say
 * `Connection: close` (drain.ts).
 */
export function createHttpServer(settings: Settings, parts: { problems: () => ProblemRenderer; control: RequestListener; gateway: Gateway; tls?: TlsMaterial; mcp?: RequestListener; drain?: Drain }): Server {
  const { control, gateway, tls } = parts;
  const create = tls === undefined ? createServer : (options: object, listener: RequestListener) => createTlsServer({ ...options, ...tlsOptions(tls) }, listener) as unknown as Server;
  const server = create(
    {
      maxHeaderSize: settings.maxHeaderBytes,
      requestTimeout: settings.requestTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      keepAliveTimeout: 5_000,
      // how often the two timeouts above are checked (Node's default, 30 s, would let a slow client stay far longer)
      connectionsCheckingInterval: Math.min(1_000, settings.headersTimeoutMs),
      // checked below, to answer problem+json rather than Node's bare 400
      requireHostHeader: false,
      ...(parts.drain ? { ServerResponse: parts.drain.responseClass } : {}),
    },
    (req, res) => {
      if (req.headers.host === undefined && req.httpVersionMinor === 1 && req.httpVersionMajor === 1) {
        const problem = parts.problems().render('bad_request', { instance: '/', traceId: traceContextOf(undefined, undefined).traceId, params: { reason: 'the Host header is missing' } });
        res.shouldKeepAlive = false;
        writeProblem(res, problem, { connection: 'close' });
      } else if (parts.mcp !== undefined && isUnder(req.url ?? '/', '/mcp')) parts.mcp(req, res); // gateway traffic: MCP tools run workflows (engine/mcp)
      else if (isControl(req.url ?? '/')) control(req, res);
      else gateway.handle(req, res);
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => endRaw(socket, parts.problems(), error.code));
  // Without a listener Node drops a CONNECT's connection unanswered; the gateway tunnels nothing.
  server.on('connect', (_req: unknown, socket: Socket) => endRaw(socket, parts.problems(), 'CONNECT'));
  return server;
}

import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { MCP_TOOL } from '../gateway/gateway.ts';

/**
 * A request the MCP endpoint hands to the gateway for a tools/call: a readable body with the
 * fields the gateway reads of Node's IncomingMessage, on the MCP request's own socket, so the
 * client address, trusted-proxy headers and client certificate are the MCP client's.
 */
export function toolRequest(mcp: IncomingMessage, method: string, url: string, headers: IncomingHttpHeaders, body: Buffer | undefined, tool: string): IncomingMessage {
  const incoming = Readable.from(body === undefined ? [] : [body]) as unknown as IncomingMessage & { [MCP_TOOL]: string };
  Object.assign(incoming, { method, url, headers, httpVersion: mcp.httpVersion, httpVersionMajor: mcp.httpVersionMajor, httpVersionMinor: mcp.httpVersionMinor, [MCP_TOOL]: tool });
  Object.defineProperty(incoming, 'socket', { value: mcp.socket });
  Object.defineProperty(incoming, 'connection', { value: mcp.socket });
  return incoming;
}

/** What the workflow answered a tools/call, as captured. */
export interface CapturedAnswer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** The answer was larger than the bound, or broke off: the body is not whole. */
  broken: boolean;
}

/**
 * Where the gateway writes a tools/call's answer (a built answer, a problem, or a proxy's stream):
 * the parts of a ServerResponse the gateway uses, kept in memory up to `maxBytes` (more breaks
 * the answer off, as the slow-reader bound does for a client).
 */
export class AnswerCapture extends Writable {
  readonly req: IncomingMessage;
  readonly done: Promise<CapturedAnswer>;
  statusCode = 200;
  headers: OutgoingHttpHeaders = {};
  shouldKeepAlive = false;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  readonly #maxBytes: number;

  constructor(req: IncomingMessage, maxBytes: number) {
    super();
    this.req = req;
    this.#maxBytes = maxBytes;
    // an answer over the bound, or one a node broke off, ends as `broken`: nobody else hears the error
    this.on('error', () => undefined);
    this.done = new Promise((resolve) => {
      const settle = () => resolve({ status: this.statusCode, headers: this.headers, body: Buffer.concat(this.#chunks), broken: !this.writableFinished || this.#size > this.#maxBytes });
      this.once('close', settle);
    });
  }

  get socket() {
    return this.req.socket;
  }

  get headersSent(): boolean {
    return this.writableEnded || this.#chunks.length > 0;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders): this {
    this.statusCode = status;
    if (headers) for (const name in headers) this.headers[name.toLowerCase()] = headers[name];
    return this;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const piece = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#size += piece.length;
    if (this.#size > this.#maxBytes) {
      callback(new Error('the answer exceeds the bound'));
      return;
    }
    this.#chunks.push(piece);
    callback();
  }
}

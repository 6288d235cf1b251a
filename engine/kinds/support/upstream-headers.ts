import { util as undiciUtil } from 'undici';
import type { Exchange } from '../types.ts';
import { HOP_BY_HOP } from './headers.ts';
import { setOwn } from './own-members.ts';

/**
 * Headers a proxy answers itself: Node's server has already sent `100 Continue` to the client,
 * and undici refuses to send `Expect` upstream.
 */
const ANSWERED_HERE = new Set(['expect']);

/**
 * The header names a Connection header lists (RFC 9110 7.6.1), which are hop-by-hop too; undefined
 * for the usual `keep-alive` / `close`, so the common case costs a comparison.
 */
function connectionListed(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  let listed: Set<string> | undefined;
  for (const value of Array.isArray(connection) ? connection : [connection]) {
    if (value === 'keep-alive' || value === 'close') continue;
    for (const item of value.split(',')) {
      const name = item.trim().toLowerCase();
      if (name !== '' && !HOP_BY_HOP.has(name)) (listed ??= new Set()).add(name);
    }
  }
  return listed;
}

/**
 * The upstream's headers the client may see, from undici's parsed header object (an answer
 * handed on as a stream): hop-by-hop ones and those its Connection header lists dropped.
 */
export function answerHeaders(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const listed = connectionListed(upstream.connection);
  const copied: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    setOwn(copied, name, value);
  }
  return copied;
}

/**
 * The same from the raw header list undici's dispatcher reports (name, value, name, value…), in
 * one pass, dropping content-length too when a later node will rewrite the body: names
 * lower-cased as undici's parseHeaders does, repeated ones as arrays. The upstream's
 * content-length is noted in `seen` even when it is not copied.
 */
export function answerHeadersFromRaw(raw: Buffer[], bodyRewritten: boolean, seen: { declaredLength: string | undefined }): Record<string, string | string[]> {
  const copied: Record<string, string | string[]> = {};
  let connection: string | string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = undiciUtil.headerNameToString(raw[i]!);
    const value = raw[i + 1]!.toString('latin1');
    if (name === 'connection') connection = connection === undefined ? value : [connection, value].flat();
    else if (name === 'content-length') seen.declaredLength = value;
    if (HOP_BY_HOP.has(name) || (bodyRewritten && name === 'content-length')) continue;
    // a header copied before is a string or an array; what an inherited member (constructor,
    // toString, __proto__) gives is neither (read without a hasOwn call, ~100 instructions a header)
    const existing: unknown = copied[name];
    if (typeof existing === 'string') copied[name] = [existing, value];
    else if (Array.isArray(existing)) existing.push(value);
    else setOwn(copied, name, value);
  }
  const listed = connectionListed(connection);
  if (listed === undefined) return copied;
  const kept: Record<string, string | string[]> = {};
  for (const name in copied) if (!listed.has(name)) setOwn(kept, name, copied[name]!);
  return kept;
}

/** Client headers that claim an identity only the gateway may assert. */
const IDENTITY_HEADERS = new Set(['x-partner', 'x-subject', 'x-user', 'x-scopes', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'forwarded', 'traceparent', 'tracestate']);

/** How a proxy node sends the client's headers on, fixed when the node is prepared. */
export interface UpstreamHeaderOptions {
  /** Leave out the client's Authorization (the node does not forward it). */
  dropAuthorization: boolean;
  /** Leave out Accept-Encoding: a later node reads the answer, so it must come uncompressed. */
  dropAcceptEncoding: boolean;
  /** Keep the client's Host instead of the upstream's. */
  preserveHost: boolean;
}

/**
 * The headers of the upstream request: the client's, less hop-by-hop ones, those its Connection
 * header lists, identity headers only the gateway may assert and Expect; then the gateway's own
 * (traceparent, X-Forwarded-*, X-Partner, X-Subject) and, when the body is sent as bytes, its
 * content-length (and its content type, when a later node replaced it). Unless `preserveHost`,
 * the client's Host is left out and undici sends the upstream's, from its pool's origin (as it
 * does for a request without one): a header less for undici to validate on every request.
 */
export function createUpstreamHeaders(options: UpstreamHeaderOptions): (exchange: Exchange, body: Buffer | string | undefined) => Record<string, string | string[]> {
  const { dropAuthorization, dropAcceptEncoding, preserveHost } = options;
  return function upstreamHeaders(exchange, body) {
    const incoming = exchange.request.headers;
    const listed = connectionListed(incoming.connection);
    // A body a later node replaced with a value (not a string) is sent as JSON; one it removed is sent empty, without a type.
    const sent = exchange.request.body;
    const replaced = body !== undefined && exchange.receivedBody !== undefined && sent !== exchange.receivedBody.parsed && typeof sent !== 'string';
    // Built by skipping, never by deleting: a delete turns the object into a slow dictionary for
    // everything that reads it afterwards (undici, here).
    const headers: Record<string, string | string[]> = {};
    for (const name in incoming) {
      const value = incoming[name];
      if (value === undefined || HOP_BY_HOP.has(name) || IDENTITY_HEADERS.has(name) || ANSWERED_HERE.has(name)) continue;
      if ((!preserveHost && name === 'host') || (dropAuthorization && name === 'authorization') || (dropAcceptEncoding && name === 'accept-encoding') || (body !== undefined && name === 'content-length') || (replaced && name === 'content-type')) continue;
      if (listed?.has(name)) continue;
      headers[name] = value;
    }
    const trace = exchange.trace;
    headers.traceparent = `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? '01' : '00'}`;
    if (trace.traceState !== undefined) headers.tracestate = trace.traceState;
    headers['x-forwarded-for'] = exchange.forwardedFor;
    headers['x-forwarded-proto'] = 'http';
    if (typeof incoming.host === 'string') headers['x-forwarded-host'] = incoming.host;
    if (exchange.partner !== undefined) headers['x-partner'] = exchange.partner;
    if (exchange.subject !== undefined) headers['x-subject'] = exchange.subject;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body)); // transfer-encoding is hop-by-hop: never copied
    if (replaced && sent !== undefined) headers['content-type'] = 'application/json';
    return headers;
  };
}

/** Content types whose body a later node reads as JSON or text. */
const JSON_TYPE = /[/+]json\b/i;
const TEXT_TYPE = /^text\//i;

/** A buffered upstream body as a later node reads it: JSON parsed, text decoded, else the bytes. */
export function readableBody(raw: Buffer, type: string | string[] | undefined): unknown {
  if (typeof type !== 'string') return raw;
  if (JSON_TYPE.test(type)) {
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      return raw.toString('utf8');
    }
  }
  return TEXT_TYPE.test(type) ? raw.toString('utf8') : raw;
}

import { Agent, request, type Dispatcher } from 'undici';
import type { PrepareContext } from '../types.ts';
import { recentlyShared } from './recently-shared.ts';

/*
 * OpenID Connect discovery (OpenID Connect Discovery 1.0 §4): an issuer's metadata at
 * <issuer>/.well-known/openid-configuration names its key set (jwks_uri) and its token
 * introspection endpoint. The metadata is fetched once, shared by the nodes naming the issuer
 * (among the values shared by what documents name: recently-shared.ts), refreshed in the
 * background when old and kept while the issuer is down, like a key set.
 */

/** The members of an issuer's metadata Sluice uses. */
interface IssuerMetadata {
  issuer: string;
  jwksUri: string | undefined;
  introspectionEndpoint: string | undefined;
}

/** The issuer's metadata could not be fetched and none was ever known. */
export class DiscoveryUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DiscoveryUnavailable';
  }
}

export interface IssuerDiscovery {
  /** The metadata: fetched on first use, then refreshed in the background when older than its maximum age. */
  metadata(): Promise<IssuerMetadata>;
  readonly fetches: number;
}

interface DiscoveryOptions {
  /** Refresh in the background once the metadata is this old (ms). */
  maxAgeMs?: number;
  /** Least time between two failed fetches (ms). */
  cooldownMs?: number;
  timeoutMs?: number;
  /** Largest metadata document accepted (bytes). */
  maxBytes?: number;
  now?: () => number;
  /** Where fetches connect through (the egress policy's agent). */
  dispatcher?: Dispatcher;
}

/** Where an issuer publishes its metadata: the issuer with /.well-known/openid-configuration appended (§4). */
function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

const httpUrl = (value: unknown): string | undefined => {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Checks a metadata document: a JSON object whose `issuer` is exactly the one asked for (§4.3:
 * otherwise an issuer could pass itself off as another), and whose endpoints are http(s) URLs.
 */
function parseMetadata(text: string, issuer: string): IssuerMetadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the metadata is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the metadata is not a JSON object');
  const doc = value as Record<string, unknown>;
  if (doc.issuer !== issuer) throw new Error('the metadata names another issuer');
  const jwksUri = doc.jwks_uri === undefined ? undefined : httpUrl(doc.jwks_uri);
  if (doc.jwks_uri !== undefined && jwksUri === undefined) throw new Error('jwks_uri is not an http(s) URL');
  const introspectionEndpoint = doc.introspection_endpoint === undefined ? undefined : httpUrl(doc.introspection_endpoint);
  if (doc.introspection_endpoint !== undefined && introspectionEndpoint === undefined) throw new Error('introspection_endpoint is not an http(s) URL');
  return { issuer, jwksUri, introspectionEndpoint };
}

/** Reads a response body of at most `maxBytes`, or throws. */
export async function readBounded(body: Dispatcher.ResponseData['body'], maxBytes: number, what: string): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new Error(`${what} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An issuer's metadata that keeps working when the issuer does not: one fetch at a time, the last
 * good document kept while fetches fail, failed fetches retried at most once per cooldown.
 * @example (await createIssuerDiscovery('https://login.example.com').metadata()).jwksUri
 */
export function createIssuerDiscovery(issuer: string, options: DiscoveryOptions = {}): IssuerDiscovery {
  const url = discoveryUrl(issuer);
  const maxAgeMs = options.maxAgeMs ?? 60 * 60_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 64 * 1024;
  const now = options.now ?? Date.now;
  let current: IssuerMetadata | undefined;
  let fetchedAt = 0;
  let attemptedAt = -Infinity;
  let fetches = 0;
  let inFlight: Promise<void> | undefined;
  let lastError: unknown;

  async function fetchOnce(): Promise<void> {
    attemptedAt = now();
    fetches += 1;
    try {
      const response = await request(url, { method: 'GET', headers: { accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new Error(`the issuer answered ${response.statusCode}`);
      }
      current = parseMetadata(await readBounded(response.body, maxBytes, 'the metadata'), issuer);
      fetchedAt = now();
      lastError = undefined;
    } catch (error) {
      lastError = error; // keep the last good metadata
    }
  }

  function refresh(): Promise<void> {
    inFlight ??= fetchOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    get fetches() {
      return fetches;
    },
    async metadata() {
      if (current === undefined) {
        if (now() - attemptedAt >= Math.min(cooldownMs, 1_000) || inFlight) await refresh();
        if (current === undefined) throw new DiscoveryUnavailable(`the metadata of issuer ${issuer} could not be fetched`, { cause: lastError });
      } else if (now() - fetchedAt > maxAgeMs && now() - attemptedAt >= cooldownMs) {
        void refresh(); // answer with what we have; the next caller sees the new document
      }
      return current;
    },
  };
}

/** What discovery needs of a node's prepare context. */
type DiscoveryContext = Pick<PrepareContext, 'egress' | 'shared'>;

/** The process's agent that connects only where the egress policy allows, checked on every connection. */
export function egressAgent(context: DiscoveryContext): Agent {
  const egress = context.egress;
  return context.shared.get(`egress-agent:${egress.key}`, () => new Agent({ connect: egress.connector() }));
}

/**
 * The shared discovery of `issuer` for a node being prepared. The metadata URL passes the egress
 * policy at publish (a refusal names `field`); the metadata's own URLs (jwks_uri, the
 * introspection endpoint) are reached through the egress agent, so each connection is checked too.
 * @returns the egress policy's refusal, or the discovery
 */
export async function discoverIssuer(context: DiscoveryContext, issuer: string): Promise<{ refused: string } | { discovery: IssuerDiscovery }> {
  const url = new URL(discoveryUrl(issuer));
  const refused = await context.egress.check({ url, label: `"${url.href}"`, literal: true });
  if (refused !== undefined) return { refused };
  const dispatcher = egressAgent(context);
  return { discovery: recentlyShared(context.shared, `oidc:${context.egress.key}:${issuer}`, () => createIssuerDiscovery(issuer, { dispatcher })) };
}

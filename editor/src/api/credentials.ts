import { apiKeySources, CREDENTIAL_HEADERS, looksLikeCredential } from '../../../shared/compile/index.ts';
import type { Api } from './client.ts';

type TokenClaims = { sub: string; scopes: string[]; partner?: string };
type ApiKeyReference = { key?: string; hash?: string; header?: string };
/** A request as a workflow test or sample stores it. */
export type SavedRequest = {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  token?: TokenClaims;
  apiKey?: ApiKeyReference;
  /** A registered partner's client certificate, presented by each run (see SampleRequest). */
  clientCert?: { partner: string; certificate?: string };
  /** A signature by a secret minted for each run, mapped to the partner. */
  hmac?: { partner: string };
  /** A token a stand-in authorization server finds active for the partner, on each run. */
  introspected?: { partner: string; scopes?: string[]; sub?: string };
};
/** The partner credential a request runs as: at most one of these references. */
export type PartnerCredential = Pick<SavedRequest, 'apiKey' | 'clientCert' | 'hmac' | 'introspected'>;

/** The claims of a JWT, read without verifying (only to save a stand-in for it), or undefined. */
function jwtClaims(value: string): Record<string, unknown> | undefined {
  const token = value.replace(/^bearer\s+/i, '').trim();
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || !payload) return undefined;
  try {
    const claims: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Demo-token claims with the subject, scopes and partner of a JWT, or undefined when it has no subject. */
function standInClaims(value: string): TokenClaims | undefined {
  const claims = jwtClaims(value);
  if (typeof claims?.sub !== 'string' || claims.sub === '') return undefined;
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : Array.isArray(claims.scp) ? claims.scp.filter((s): s is string => typeof s === 'string') : [];
  const partner = [claims.azp, claims.client_id, claims.partner].find((p): p is string => typeof p === 'string' && p !== '');
  return { sub: claims.sub, scopes, ...(partner ? { partner } : {}) };
}

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The inline key hashes of the document's api-key nodes. */
function inlineHashes(document: Record<string, unknown>): Set<string> {
  const hashes = new Set<string>();
  for (const node of Array.isArray(document.nodes) ? (document.nodes as Array<{ kind?: unknown; config?: { keys?: Array<{ hash?: unknown }> } }>) : [])
    if (node.kind === 'api-key') for (const k of node.config?.keys ?? []) if (typeof k.hash === 'string') hashes.add(k.hash);
  return hashes;
}

/** The id of the registered partner key with this key's prefix, when the signed-in role may list partners. */
async function partnerKeyId(api: Api, key: string): Promise<string | undefined> {
  const prefix = /^sk_([A-Za-z0-9]{8})_/.exec(key)?.[1];
  if (!prefix) return undefined;
  try {
    const { partners } = await api.partners();
    return partners.flatMap((p) => p.keys).find((k) => k.prefix === prefix && k.state === 'active')?.id;
  } catch {
    return undefined;
  }
}

/**
 * A request as it may be stored: every credential header (Authorization, Cookie, an API key, the
 * header an api-key node reads, any value shaped like a token) is replaced by a reference the run
 * resolves (a JWT by demo-token claims, an inline key by its hash, a partner key by its id) or
 * removed. Answers the request and, per header, what became of it, to tell the user.
 * @example
 * const { request, notes } = await withoutCredentials(api, document, { method: 'GET', path: '/x', headers: { 'x-api-key': 'k' } });
 */
export async function withoutCredentials(api: Api, document: Record<string, unknown>, request: SavedRequest): Promise<{ request: SavedRequest; notes: string[] }> {
  const keyHeaders = apiKeySources(document).headers;
  const secret = new Set([...CREDENTIAL_HEADERS, ...keyHeaders]);
  const headers: Record<string, string> = {};
  const notes: string[] = [];
  let { token, apiKey } = request;
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (!secret.has(name) && !looksLikeCredential(value)) {
      headers[name] = value;
      continue;
    }
    const claims = token === undefined && (name === 'authorization' || /^bearer\s/i.test(value)) ? standInClaims(value) : undefined;
    if (claims && name === 'authorization') {
      token = claims;
      notes.push(`${name}: saved as a demo token for "${claims.sub}"${claims.scopes.length > 0 ? ` with ${claims.scopes.join(' ')}` : ''}, minted on each run`);
      continue;
    }
    if (apiKey === undefined && keyHeaders.has(name)) {
      const hash = await sha256(value);
      const id = inlineHashes(document).has(hash) ? undefined : await partnerKeyId(api, value);
      if (inlineHashes(document).has(hash) || id !== undefined) {
        apiKey = { ...(id === undefined ? { hash } : { key: id }), header: name };
        notes.push(`${name}: saved as a reference to ${id === undefined ? 'the inline key' : `partner key ${id}`}; a key with its partner and scopes is minted on each run`);
        continue;
      }
    }
    notes.push(`${name}: removed (a credential is never stored)`);
  }
  const { headers: _typed, token: _token, apiKey: _apiKey, ...rest } = request;
  return { request: { ...rest, ...(Object.keys(headers).length > 0 ? { headers } : {}), ...(token ? { token } : {}), ...(apiKey ? { apiKey } : {}) }, notes };
}

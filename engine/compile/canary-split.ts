import { randomInt } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { IncomingHttpHeaders } from 'node:http';
import type { CanaryRecord } from '../../shared/schema/lifecycle.ts';
import type { ApiKeyConfig, JwtVerifyConfig } from '../../shared/nodes/index.ts';
import type { CanarySplit, CompiledWorkflow } from './types.ts';
import { keyRecordOf, type PartnerAccess } from '../kinds/support/partner-directory.ts';

/** Parts of the split the hash is taken in: a share of 1% is 100 of them. */
const PARTS = 10_000;

/** FNV-1a (32 bit) of a string: the same on every replica, cheap, well spread over short keys. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Which part (0 to PARTS - 1) a key falls in for a canary. */
export const partOf = (canaryId: string, key: string) => fnv1a(`${canaryId}\u0000${key}`) % PARTS;

/** The claims of a bearer token, read without verifying it: only to keep a caller on one side; each version verifies on its own. */
function unverifiedClaims(authorization: string | undefined): Record<string, unknown> | undefined {
  if (authorization === undefined || authorization.length > 16_384 || !/^bearer /i.test(authorization)) return undefined;
  try {
    return decodeJwt(authorization.slice(7).trim());
  } catch {
    return undefined; // not a JWT: the caller has no subject or client id to stick by
  }
}

/** The nodes of kind `kind` in either version. */
const configsOf = <T>(workflows: CompiledWorkflow[], kind: string) => workflows.flatMap((w) => [...w.graph.nodes.values()].filter((n) => n.kind === kind).map((n) => n.config as T));

/**
 * What keeps a caller on one side, read from the request before any node runs: its partner (a
 * partner API key's, or the client id a bearer token names, mapped to the registered partner as
 * the identity nodes map it; the key or client id itself when no partner is registered for it),
 * its token's subject, or a header. Nothing here decides access: both versions verify the
 * credential themselves, so a forged token only chooses which version refuses it.
 */
function stickinessKey(record: CanaryRecord, workflows: CompiledWorkflow[], partners: PartnerAccess | undefined): (headers: IncomingHttpHeaders) => string | undefined {
  const sticky = record.sticky;
  if (sticky.by === 'random') return () => undefined;
  if (sticky.by === 'header') {
    const name = sticky.header;
    return (headers) => {
      const value = headers[name];
      return Array.isArray(value) ? value[0] : value || undefined;
    };
  }
  const keyHeaders = [...new Set(configsOf<ApiKeyConfig>(workflows, 'api-key').map((c) => c.header.toLowerCase()))];
  const jwt = configsOf<JwtVerifyConfig>(workflows, 'jwt-verify');
  const claimNames = [...new Set(jwt.flatMap((c) => (c.issuers === undefined ? [c.partnerClaim] : c.issuers.map((i) => i.partnerClaim))))];
  if (claimNames.length === 0) claimNames.push('azp', 'client_id');
  const fromKey = (headers: IncomingHttpHeaders) => {
    for (const name of keyHeaders) {
      let key = headers[name];
      if (Array.isArray(key)) key = key[0];
      if (key === undefined || key === '') continue;
      // a partner key names its record by its prefix (not verified here: each version does that)
      const registered = partners === undefined ? undefined : keyRecordOf(partners.current, key)?.partner;
      return registered ?? `key:${key}`;
    }
    return undefined;
  };
  if (sticky.by === 'subject')
    return (headers) => {
      const sub = unverifiedClaims(headers.authorization)?.sub;
      return typeof sub === 'string' ? `sub:${sub}` : fromKey(headers);
    };
  return (headers) => {
    const claims = unverifiedClaims(headers.authorization);
    if (claims !== undefined)
      for (const name of claimNames) {
        const client = claims[name];
        if (typeof client === 'string') return partners?.current.clients.get(client) ?? `client:${client}`;
      }
    return fromKey(headers);
  };
}

/**
 * The split of a canary between the active version and the candidate, made when either changes;
 * `unsent` carries the counts the canary watch has not taken yet from the split it replaces.
 */
export function createCanarySplit(record: CanaryRecord, active: CompiledWorkflow, candidate: CompiledWorkflow, partners: PartnerAccess | undefined, unsent: Float64Array = new Float64Array(4)): CanarySplit {
  const below = record.share * (PARTS / 100);
  const keyOf = stickinessKey(record, [active, candidate], partners);
  return {
    record,
    candidate,
    unsent,
    pick(headers) {
      if (below >= PARTS) return true;
      const key = keyOf(headers);
      return (key === undefined ? randomInt(PARTS) : partOf(record.id, key)) < below;
    },
    count(toCandidate, bad) {
      const at = toCandidate ? 2 : 0;
      unsent[at] = unsent[at]! + 1;
      if (bad) unsent[at + 1] = unsent[at + 1]! + 1;
    },
  };
}

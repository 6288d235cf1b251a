import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { durationMs } from '../../shared/schema/index.ts';
import type { HmacVerifyConfig } from '../../shared/nodes/index.ts';
import { admit } from './support/partner-admission.ts';
import type { Runtime } from './types.ts';

/** The longest signature header read: a longer one is refused before it is parsed. */
const MAX_HEADER_CHARS = 512;

/** `keyId=<id>,ts=<unix seconds>,sig=<hex>`, spaces allowed after the commas; the digest is told by the length of sig. */
const SCHEME = /^keyId=([A-Za-z0-9_-]{1,64}), *ts=(\d{1,12}), *sig=([0-9a-f]{64}|[0-9a-f]{128})$/;

/** The digest an HMAC signature of this many hex characters was made with. */
const DIGEST_BY_LENGTH: Record<number, 'sha256' | 'sha512'> = { 64: 'sha256', 128: 'sha512' };

const EMPTY = Buffer.alloc(0);
/** The SHA-256 of no body, hashed once (a hash made costs ~0.9 µs, and most signed requests are GETs). */
const EMPTY_SHA256 = createHash('sha256').update(EMPTY).digest('hex');

/**
 * What a partner signs, one field a line: the method (upper case), the path with its query as
 * sent, the timestamp (unix seconds, as in the header) and the SHA-256 of the body in hex (of
 * nothing when there is none).
 */
export function canonicalString(method: string, pathWithQuery: string, ts: string, body: Buffer): string {
  return `${method.toUpperCase()}\n${pathWithQuery}\n${ts}\n${body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex')}`;
}

/**
 * Identifies the partner by an HMAC signature: the header names the partner's secret by key id,
 * the timestamp must be within the skew window of the gateway's clock, the signature is compared
 * in constant time, and a signature accepted once is refused for as long as its timestamp could
 * still pass (twice the skew), in Redis across replicas when REDIS_URL is set. Then the
 * partner's access to this workflow is checked, as api-key does.
 */
export const hmacVerify: Runtime<HmacVerifyConfig> = (config, context) => {
  const header = config.header.toLowerCase();
  const allowed = new Set(config.algorithms);
  const skewMs = durationMs(config.skew);
  const { partners, replays, workflowId } = context;
  return {
    run: async function hmacVerify(exchange) {
      let presented = exchange.request.headers[header];
      if (Array.isArray(presented)) presented = presented.length === 1 ? presented[0] : '';
      if (presented === undefined || presented === '') return 'missing';
      if (presented.length > MAX_HEADER_CHARS) return 'invalid';
      const parts = SCHEME.exec(presented);
      if (parts === null) return 'invalid';
      const [, keyId, ts, sig] = parts as unknown as [string, string, string, string];
      const digest = DIGEST_BY_LENGTH[sig.length]!;
      if (!allowed.has(digest)) return 'invalid';
      const now = Date.now();
      // Stryker disable next-line EqualityOperator: the window's edge is one millisecond wide (ts is whole seconds, now is milliseconds): no request can be sent to land on it
      if (Math.abs(Number(ts) * 1000 - now) > skewMs) return 'invalid';
      const secret = partners.current.hmacSecrets.get(keyId);
      // Stryker disable next-line EqualityOperator: the expiry's edge is one millisecond wide: no request can be sent to land on it
      if (secret === undefined || secret.expiresAt <= now) return 'invalid';
      // Stryker disable next-line OptionalChaining: equivalent: the kind reads the body, so the gateway has received it (empty for a GET, tested) before this runs
      const canonical = canonicalString(exchange.request.method, exchange.request.path + exchange.upstreamSearch(), ts, exchange.receivedBody?.raw ?? EMPTY);
      const expected = createHmac(digest, secret.secret).update(canonical).digest();
      if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return 'invalid';
      let fresh: boolean;
      try {
        fresh = await replays.claim(`${keyId}:${sig}`, 2 * skewMs);
      } catch {
        // the store of seen signatures cannot be reached: a replay cannot be ruled out, so the signature is refused
        return 'invalid';
      }
      if (!fresh) return 'replayed';
      exchange.partner = secret.partner;
      exchange.keyId = keyId;
      exchange.scopes = [];
      return admit(partners.current, exchange, workflowId);
    },
  };
};

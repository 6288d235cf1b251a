import type { IntrospectConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import { calloutAllowed } from './http-call.ts';
import { createIntrospectionCache, createIntrospector, IntrospectionUnavailable, tokenKey, type Introspection } from './support/introspection.ts';
import { discoverIssuer, egressAgent } from './support/oidc-discovery.ts';
import { admit } from './support/partner-admission.ts';
import { PrepareError } from './prepare-error.ts';
import type { Exchange, Runtime } from './types.ts';

/** "Bearer " in any case, as RFC 9110 allows for the scheme. */
const BEARER = /^bearer /i;
/** Tokens longer than this are refused before anything is sent anywhere. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** Scopes granted: the RFC 7662 `scope` string (space-separated). */
const scopesOf = (claims: Readonly<Record<string, unknown>>): readonly string[] =>
  Object.freeze(typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => s.length > 0) : []);

/**
 * Where the client secret may go: a host the operator allows callouts to (SLUICE_CALLOUT_HOSTS)
 * that is also bound to this very secret (SLUICE_SECRET_HOSTS).
 */
function secretDestinationRefusal(url: URL, hosts: readonly string[], secretEnv: string, bound: readonly string[]): string | undefined {
  if (!calloutAllowed(url, hosts))
    return hosts.length === 0
      ? 'the client secret is sent to the authorization server, and no host is allowed for that on this gateway (SLUICE_CALLOUT_HOSTS is empty)'
      : `host ${url.host} is not among the hosts this gateway sends requests with credentials to (SLUICE_CALLOUT_HOSTS)`;
  if (!calloutAllowed(url, bound))
    return bound.length === 0
      ? `the secret in ${secretEnv} may not be sent anywhere: SLUICE_SECRET_HOSTS binds no host to it (e.g. ${secretEnv}=${url.host})`
      : `the secret in ${secretEnv} may be sent only to ${bound.join(', ')} (SLUICE_SECRET_HOSTS), not to ${url.host}`;
  return undefined;
}

/**
 * Identifies the caller by an opaque token the authorization server vouches for (RFC 7662): the
 * gateway introspects it as its own client (secret from an allow-listed environment variable),
 * maps scope, sub and client_id into the context, and checks the partner's access like
 * jwt-verify. Answers are cached by token hash, so a partner's repeated calls cost a hash and a
 * map lookup; a revoked token is refused once its cached answer runs out (cacheTtl).
 */
export const introspect: Runtime<IntrospectConfig> = async (config, context) => {
  const hosts = context.calloutHosts;
  const bound = context.env.secretHosts(config.clientSecretEnv, 'config.clientSecretEnv');
  const refusal = (url: URL) => secretDestinationRefusal(url, hosts, config.clientSecretEnv, bound);
  const dispatcher = egressAgent(context);
  let endpoint: () => Promise<string>;
  if (config.endpoint !== undefined) {
    const url = new URL(config.endpoint);
    const refused = refusal(url) ?? (await context.egress.check({ url, label: `"${config.endpoint}"`, literal: true }));
    if (refused !== undefined) throw new PrepareError('config.endpoint', refused);
    const fixed = Promise.resolve(url.href);
    endpoint = () => fixed;
  } else {
    const issuer = config.issuer!;
    const early = refusal(new URL(issuer));
    if (early !== undefined) throw new PrepareError('config.issuer', early);
    const found = await discoverIssuer(context, issuer);
    if ('refused' in found) throw new PrepareError('config.issuer', found.refused);
    const { discovery } = found;
    endpoint = async () => {
      const metadata = await discovery.metadata().catch((cause: unknown) => {
        // Stryker disable next-line StringLiteral,ObjectLiteral: equivalent: why an introspection is unavailable is neither shown nor logged (ask() answers the unavailable port)
        throw new IntrospectionUnavailable(`the metadata of issuer ${issuer} could not be fetched`, { cause });
      });
      // Stryker disable next-line StringLiteral: equivalent: the reason is neither shown nor logged (ask() answers the unavailable port)
      if (metadata.introspectionEndpoint === undefined) throw new IntrospectionUnavailable(`issuer ${issuer} publishes no introspection_endpoint`);
      // the discovered endpoint gets the secret: it is held to the same hosts as a configured one
      const refused = refusal(new URL(metadata.introspectionEndpoint));
      if (refused !== undefined) throw new IntrospectionUnavailable(refused);
      return metadata.introspectionEndpoint;
    };
  }
  // read only once the secret's destination is known to be allowed
  const clientSecret = context.env.secret(config.clientSecretEnv, 'config.clientSecretEnv');
  const call = createIntrospector({
    endpoint,
    client: { clientId: config.clientId, clientSecret, method: config.authMethod },
    timeoutMs: durationMs(config.timeout),
    audience: config.audience,
    issuer: config.issuer,
    dispatcher,
  });
  const cache = createIntrospectionCache({ size: config.cacheSize, ttlMs: durationMs(config.cacheTtl), negativeTtlMs: durationMs(config.negativeCacheTtl) });
  const header = config.header.toLowerCase();
  const partnerClaim = config.partnerClaim;
  const access = context.partners;
  const workflowId = context.workflowId;

  /** Puts an active token's members in the context and checks the partner's access now (never cached). */
  const apply = (exchange: Exchange, result: Introspection): string => {
    if (!result.active) {
      exchange.problemParams = { ...exchange.problemParams, reason: result.reason };
      return 'invalid';
    }
    const claims = result.claims;
    exchange.claims = claims;
    exchange.scopes = scopesOf(claims);
    exchange.subject = typeof claims.sub === 'string' ? claims.sub : undefined;
    const client = claims[partnerClaim];
    const directory = access.current;
    exchange.partner = typeof client === 'string' ? (directory.clients.get(client) ?? client) : undefined;
    return admit(directory, exchange, workflowId);
  };

  async function ask(exchange: Exchange, key: string, token: string): Promise<string> {
    try {
      return apply(exchange, await cache.resolve(key, token, call));
    } catch (error) {
      if (error instanceof IntrospectionUnavailable) return 'unavailable';
      throw error;
    }
  }

  return {
    run: function introspect(exchange) {
      let value = exchange.request.headers[header];
      if (Array.isArray(value)) value = value[0];
      if (value === undefined || !BEARER.test(value)) return 'missing';
      if (value.length > MAX_TOKEN_LENGTH + 7) {
        exchange.problemParams = { ...exchange.problemParams, reason: 'the token is too large' };
        return 'invalid';
      }
      const token = value.slice(7).trim();
      if (token.length === 0) return 'missing';
      const key = tokenKey(token);
      const cached = cache.get(key);
      if (cached !== undefined) return apply(exchange, cached);
      return ask(exchange, key, token);
    },
  };
};

import type { JwtVerifyConfig } from '../../shared/nodes/index.ts';
import { canonicalJson } from '../store/audit.ts';
import { prepareNode } from '../compile/compile.ts';
import type { CompileDependencies, CompiledWorkflow } from '../compile/types.ts';
import { createSyntheticExchange } from '../gateway/exchange.ts';
import { unverifiedIssuer } from '../kinds/jwt-verify.ts';
import type { PartnerDirectory } from '../kinds/support/partner-directory.ts';
import type { NodeRun } from '../kinds/types.ts';

/** Tokens longer than this are refused before any parsing (jwt-verify's own bound). */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Portal verifiers kept (one per distinct issuer configuration of the served jwt-verify nodes). */
const MAX_VERIFIERS = 200;

/** A token verified for the portal: whose it is, who issued it, until when. */
export type VerifiedPortalToken =
  | { ok: true; partner: string; issuer: string; clientId: string; expiresAt: number }
  | { ok: false; reason: 'invalid' | 'unavailable' };

/** An issuer configuration a served jwt-verify node trusts, made for the portal: the node's keys, algorithms and checks, the portal's audience. */
interface Trusted {
  config: JwtVerifyConfig;
  /** The claim naming the partner's client id in this issuer's tokens. */
  partnerClaim: string;
  /** The served workflows whose identity node trusts this issuer: the partners that may call one are the ones it may sign in. */
  workflows: string[];
}

/**
 * The issuers the installation trusts, for the portal: every jwt-verify node of a served workflow
 * that names its issuer (`issuer`, or an `issuers` entry) gives one, keyed by the issuer and the
 * node's key configuration. The audience is replaced by the portal's: a token minted for an API is
 * not a portal sign-in (nor a portal token an API call).
 */
function trustedOf(workflows: Iterable<CompiledWorkflow>, audience: string): Map<string, Map<string, Trusted>> {
  const byIssuer = new Map<string, Map<string, Trusted>>();
  const add = (issuer: string, config: JwtVerifyConfig, partnerClaim: string, workflow: string) => {
    const key = canonicalJson(config);
    let configs = byIssuer.get(issuer);
    if (configs === undefined) byIssuer.set(issuer, (configs = new Map()));
    const known = configs.get(key);
    if (known === undefined) configs.set(key, { config, partnerClaim, workflows: [workflow] });
    else if (!known.workflows.includes(workflow)) known.workflows.push(workflow);
  };
  for (const workflow of workflows)
    for (const node of workflow.graph.nodes.values()) {
      if (node.kind !== 'jwt-verify') continue;
      const config = node.config as JwtVerifyConfig;
      if (config.issuers !== undefined) {
        for (const entry of config.issuers) add(entry.issuer, { ...config, issuers: [{ ...entry, audience }] }, entry.partnerClaim, workflow.id);
      } else if (config.issuer !== undefined) add(config.issuer, { ...config, audience }, config.partnerClaim, workflow.id);
      // a node without an issuer accepts tokens of whoever holds its keys: no issuer to sign in with
    }
  return byIssuer;
}

/**
 * Verifies a partner's bearer token for the portal exactly as the gateway's jwt-verify nodes
 * verify tokens (the same runtime: the node's key source, shared key-set cache, allow-listed
 * algorithms, required exp, issuer, clock tolerance, maximum age and lifetime), with the portal's
 * audience. The token's partner claim must be a client id registered to a partner, and that
 * partner must be one the issuer is trusted for: the issuer's node guards a served workflow the
 * partner may call (one of its products', or one in no product).
 */
export function createPortalTokenVerifier(options: { served: () => Iterable<CompiledWorkflow>; deps: CompileDependencies; audience: string; directory: () => PartnerDirectory; revision: () => number }) {
  let table: { revision: number; byIssuer: Map<string, Map<string, Trusted>> } | undefined;
  /** Prepared verifiers by configuration: prepared once, kept while it is trusted. */
  const verifiers = new Map<string, Promise<NodeRun | undefined>>();

  function trusted(): Map<string, Map<string, Trusted>> {
    const revision = options.revision();
    if (table === undefined || table.revision !== revision) {
      table = { revision, byIssuer: trustedOf(options.served(), options.audience) };
      const keep = new Set([...table.byIssuer.values()].flatMap((configs) => [...configs.keys()]));
      for (const key of verifiers.keys()) if (!keep.has(key)) verifiers.delete(key);
    }
    return table.byIssuer;
  }

  function verifierOf(key: string, entry: Trusted): Promise<NodeRun | undefined> {
    let verifier = verifiers.get(key);
    if (verifier === undefined) {
      if (verifiers.size >= MAX_VERIFIERS) verifiers.delete(verifiers.keys().next().value!);
      verifier = prepareNode(entry.workflows[0]!, 'portal-sign-in', 'jwt-verify', entry.config, new Set(), options.deps).then((outcome) => ('prepared' in outcome ? outcome.prepared.run : undefined));
      verifiers.set(key, verifier);
    }
    return verifier;
  }

  return {
    async verify(token: string): Promise<VerifiedPortalToken> {
      if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'invalid' };
      const issuer = unverifiedIssuer(token);
      const configs = issuer === undefined ? undefined : trusted().get(issuer);
      if (issuer === undefined || configs === undefined) return { ok: false, reason: 'invalid' };
      let unavailable = false;
      for (const [key, entry] of configs) {
        const run = await verifierOf(key, entry);
        if (run === undefined) continue;
        const exchange = createSyntheticExchange({ method: 'POST', url: '/portal/api/partner/session', headers: { [entry.config.header.toLowerCase()]: `Bearer ${token}` } });
        const port = await run(exchange);
        if (port === 'unavailable') unavailable = true;
        // ok, suspended and unsubscribed all mean the token verified; whose it is is decided here
        if (port !== 'ok' && port !== 'suspended' && port !== 'unsubscribed') continue;
        const clientId = exchange.claims?.[entry.partnerClaim];
        const exp = exchange.claims?.exp;
        if (typeof clientId !== 'string' || typeof exp !== 'number') continue;
        const directory = options.directory();
        const partnerId = directory.clients.get(clientId);
        const partner = partnerId === undefined ? undefined : directory.partners.get(partnerId);
        if (partner === undefined || partner.suspended) continue;
        if (!entry.workflows.some((w) => partner.workflows.has(w) || !directory.guarded.has(w))) continue;
        return { ok: true, partner: partner.id, issuer, clientId, expiresAt: exp * 1000 };
      }
      return { ok: false, reason: unavailable ? 'unavailable' : 'invalid' };
    },
  };
}

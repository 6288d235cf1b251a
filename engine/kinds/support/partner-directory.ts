import { durationMs } from '../../../shared/schema/index.ts';
import { modelMatcher } from '../../../shared/schema/models.ts';
import type { PartnerRecord, PlanLimit } from '../../../shared/schema/partners.ts';
import type { StoreState } from '../../store/types.ts';

/** A partner's limit for one workflow, resolved from its override or its plan when the directory is built. */
export interface ResolvedLimit {
  limit: number;
  windowMs: number;
  window: string;
  /** `limit` as the RateLimit-Limit header sends it, made once. */
  text: string;
  /** The product the limit is for. */
  product: string;
  /** The plan's (or override's) token budget for the product, for rate-limit nodes with a cost. */
  tokens?: ResolvedLimit | undefined;
  /** The plan's (or override's) model allow-list for the product, for llm proxies; undefined: no narrowing. */
  allowsModel?: ((model: string) => boolean) | undefined;
}

interface DirectoryKey {
  id: string;
  partner: string;
  /** `sha256:<hex>` of the whole key. */
  hash: string;
  scopes: readonly string[];
  /** ms since the epoch; Infinity when the key does not expire. */
  expiresAt: number;
}

/** An HMAC secret (hmac-verify), by its key id. */
interface DirectoryHmacSecret {
  partner: string;
  secret: Buffer;
  /** ms since the epoch; Infinity when the secret does not expire. */
  expiresAt: number;
}

interface DirectoryPartner {
  id: string;
  suspended: boolean;
  /** Workflows the partner may call: those of the products it subscribes to. */
  workflows: ReadonlySet<string>;
  /** Workflow id -> the partner's limit for it (override first, then plan); absent when neither sets one. */
  limits: ReadonlyMap<string, ResolvedLimit>;
}

/**
 * What the gateway knows about partners as of one store revision, as lookup maps: built once per
 * revision by the registry and swapped in with the routes, so a request costs a map lookup or two.
 */
export interface PartnerDirectory {
  revision: number;
  /** Key prefix -> the key's record (revoked keys are left out). */
  keys: ReadonlyMap<string, DirectoryKey>;
  /** OAuth client id (JWT azp / client_id) -> partner id. */
  clients: ReadonlyMap<string, string>;
  partners: ReadonlyMap<string, DirectoryPartner>;
  /** Client certificate (`fingerprint:<hex>`, `subject:<CN>`, `san:<entry>`, see certificateKey) -> partner id. */
  certificates: ReadonlyMap<string, string>;
  /** HMAC key id -> its secret (revoked secrets are left out). */
  hmacSecrets: ReadonlyMap<string, DirectoryHmacSecret>;
  /** Partner id -> its registered client certificates by record id (what a preview presents as that partner's certificate). */
  partnerCertificates: ReadonlyMap<string, ReadonlyArray<{ id: string; match: 'fingerprint' | 'subject' | 'san'; value: string }>>;
  /** Workflow id -> the products that include it ("a, b"); workflows in no product are open to every partner. */
  guarded: ReadonlyMap<string, string>;
  /** Product id -> its name, description and workflows (the /mcp/<product> endpoint's tools). */
  products: ReadonlyMap<string, { id: string; name: string; description: string; workflows: readonly string[] }>;
}

/** The directory in force (swapped per revision) and each key's last use in this process. */
export interface PartnerAccess {
  current: PartnerDirectory;
  /** Key id -> ms of its last accepted request, in this process's memory only. */
  readonly lastUsed: Map<string, number>;
}

const EMPTY_DIRECTORY: PartnerDirectory = { revision: 0, keys: new Map(), clients: new Map(), partners: new Map(), certificates: new Map(), hmacSecrets: new Map(), partnerCertificates: new Map(), guarded: new Map(), products: new Map() };

export function createPartnerAccess(): PartnerAccess {
  return { current: EMPTY_DIRECTORY, lastUsed: new Map() };
}

const resolveOne = (product: string, limit: { limit: number; window: string }): ResolvedLimit => ({ limit: limit.limit, windowMs: durationMs(limit.window), window: limit.window, text: String(limit.limit), product });
const resolve = (product: string, limit: PlanLimit): ResolvedLimit => ({
  ...resolveOne(product, limit),
  tokens: limit.tokens === undefined ? undefined : resolveOne(product, limit.tokens),
  allowsModel: limit.models === undefined ? undefined : modelMatcher(limit.models),
});

/** The directory key of a client certificate match (client-cert nodes look up the same). */
/** `sk_` + 8-character prefix + `_` + secret: the form of keys created for registered partners. */
const isPartnerKey = (key: string) => key.length > 12 && key.charCodeAt(11) === 95 /* _ */ && key.startsWith('sk_');

/**
 * The record a presented key's prefix names, when the key has the form of a partner key; not
 * verified: the caller compares the key's hash with the record's (or only reads whom it names).
 */
export const keyRecordOf = (directory: PartnerDirectory, presented: string) => (isPartnerKey(presented) ? directory.keys.get(presented.slice(3, 11)) : undefined);

export const certificateKey = (match: 'fingerprint' | 'subject' | 'san', value: string) => `${match}:${value}`;

/** Client certificate -> partner, for every partner's registered certificates. */
function clientCertificatesOf(partners: Iterable<PartnerRecord>): Map<string, string> {
  const map = new Map<string, string>();
  for (const partner of partners) for (const cert of partner.certificates ?? []) map.set(certificateKey(cert.match, cert.value), partner.id);
  return map;
}

/** Partner -> its registered certificates with their record ids. */
function partnerCertificatesOf(partners: Iterable<PartnerRecord>): Map<string, Array<{ id: string; match: 'fingerprint' | 'subject' | 'san'; value: string }>> {
  const map = new Map<string, Array<{ id: string; match: 'fingerprint' | 'subject' | 'san'; value: string }>>();
  for (const partner of partners) if (partner.certificates?.length) map.set(partner.id, partner.certificates.map((c) => ({ id: c.id, match: c.match, value: c.value })));
  return map;
}

/** Builds the lookup maps of a store state. */
export function buildPartnerDirectory(state: StoreState): PartnerDirectory {
  const products = state.products ?? {};
  const plans = state.plans ?? {};
  const guarded = new Map<string, string>();
  for (const product of Object.values(products)) for (const workflow of product.workflows) guarded.set(workflow, guarded.has(workflow) ? `${guarded.get(workflow)}, ${product.id}` : product.id);

  const keys = new Map<string, DirectoryKey>();
  const clients = new Map<string, string>();
  const partners = new Map<string, DirectoryPartner>();
  for (const partner of Object.values(state.partners ?? {})) {
    const plan = partner.plan !== undefined && Object.hasOwn(plans, partner.plan) ? plans[partner.plan] : undefined;
    const workflows = new Set<string>();
    const limits = new Map<string, ResolvedLimit>();
    for (const productId of partner.products) {
      if (!Object.hasOwn(products, productId)) continue;
      const own = Object.hasOwn(partner.limits, productId) ? partner.limits[productId] : undefined;
      const planned = plan !== undefined && Object.hasOwn(plan.limits, productId) ? plan.limits[productId] : undefined;
      const limit = own ?? planned;
      for (const workflow of products[productId]!.workflows) {
        workflows.add(workflow);
        // the first subscribed product that sets a limit for the workflow gives it
        if (limit !== undefined && !limits.has(workflow)) limits.set(workflow, resolve(productId, limit));
      }
    }
    partners.set(partner.id, { id: partner.id, suspended: partner.status === 'suspended', workflows, limits });
    for (const clientId of partner.clientIds) clients.set(clientId, partner.id);
    for (const key of partner.keys)
      if (key.revokedAt === undefined)
        keys.set(key.prefix, { id: key.id, partner: partner.id, hash: key.hash, scopes: Object.freeze([...key.scopes]), expiresAt: key.expiresAt === undefined ? Infinity : Date.parse(key.expiresAt) });
  }
  return { revision: state.revision, keys, clients, partners, certificates: clientCertificatesOf(Object.values(state.partners ?? {})), hmacSecrets: hmacSecretsOf(state), partnerCertificates: partnerCertificatesOf(Object.values(state.partners ?? {})), guarded, products: new Map(Object.values(products).map((p) => [p.id, { id: p.id, name: p.name, description: p.description, workflows: p.workflows }])) };
}

/** The HMAC secrets of a store state by key id, revoked ones left out. */
function hmacSecretsOf(state: StoreState): Map<string, DirectoryHmacSecret> {
  const secrets = new Map<string, DirectoryHmacSecret>();
  for (const partner of Object.values(state.partners ?? {}))
    for (const s of partner.hmacSecrets ?? [])
      if (s.revokedAt === undefined) secrets.set(s.id, { partner: partner.id, secret: Buffer.from(s.secret, 'utf8'), expiresAt: s.expiresAt === undefined ? Infinity : Date.parse(s.expiresAt) });
  return secrets;
}

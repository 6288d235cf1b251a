import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyView, ClientCertificateMatch, ClientCertificateRecord, PartnerFields, PartnerRecord, PartnerView, PlanFields, PlanRecord, ProductFields, ProductRecord, HmacSecretRecord, HmacSecretView } from '../../../shared/schema/partners.ts';
import { durationMs } from '../../../shared/schema/index.ts';
import { normalCertificateMatch } from '../../../shared/schema/partners.ts';
import { auditActor, type AuditAction, type UnsealedEntry } from '../../store/audit.ts';
import type { Store, StoreState } from '../../store/types.ts';
import { hashApiKey } from '../../kinds/api-key.ts';
import { AdminError } from '../errors.ts';
import type { Actor } from './workflows.ts';

/**
 * A new key, `sk_<prefix>_<secret>`: the prefix (8 hex characters) finds the key's record, the
 * secret (32 random bytes) is the credential. The key itself is returned once, to the caller, and never stored.
 */
function newApiKey(taken: ReadonlySet<string>): { key: string; prefix: string } {
  for (;;) {
    const prefix = randomBytes(4).toString('hex');
    if (!taken.has(prefix)) return { prefix, key: `sk_${prefix}_${randomBytes(32).toString('base64url')}` };
  }
}

const own = <T>(record: Record<string, T> | undefined, id: string): T | undefined => (record !== undefined && Object.hasOwn(record, id) ? record[id] : undefined);

/** Every key prefix in use, across partners: a prefix names exactly one key. */
const prefixesOf = (state: StoreState) => new Set(Object.values(state.partners ?? {}).flatMap((p) => p.keys.map((k) => k.prefix)));

function keyState(key: Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt'>, now: number): ApiKeyView['state'] {
  if (key.revokedAt !== undefined) return 'revoked';
  if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= now) return 'expired';
  return 'active';
}

/** Every HMAC key id in use, across partners: a key id names exactly one secret. */
const hmacIdsOf = (state: StoreState) => new Set(Object.values(state.partners ?? {}).flatMap((p) => (p.hmacSecrets ?? []).map((s) => s.id)));

/** A new HMAC secret: `hk_` + 8 hex characters names it in signatures, 32 random bytes sign. */
function newHmacSecret(taken: ReadonlySet<string>): { id: string; secret: string } {
  for (;;) {
    const id = `hk_${randomBytes(4).toString('hex')}`;
    if (!taken.has(id)) return { id, secret: randomBytes(32).toString('base64url') };
  }
}

/** A partner's HMAC secrets as the admin API shows them: never the secret. */
function hmacSecretViews(partner: PartnerRecord, now: number): HmacSecretView[] {
  return (partner.hmacSecrets ?? []).map(({ secret: _secret, ...shown }) => ({ ...shown, state: keyState(shown, now) }));
}

/** A partner as the admin API shows it: keys without their hashes, with this process's last-used time; HMAC secrets without the secret. */
export function partnerView(partner: PartnerRecord, lastUsed: (keyId: string) => number | undefined, now = Date.now()): PartnerView {
  const { hmacSecrets: _hmac, ...rest } = partner;
  return {
    ...rest,
    ...(partner.hmacSecrets === undefined ? {} : { hmacSecrets: hmacSecretViews(partner, now) }),
    keys: partner.keys.map(({ hash: _hash, ...key }) => {
      const used = lastUsed(key.id);
      return { ...key, lastUsedAt: used === undefined ? null : new Date(used).toISOString(), state: keyState(key, now) };
    }),
  };
}

/**
 * Partners, their API keys, API products and plans: each change is one store transaction with
 * its audit entry, as workflow changes are. Key secrets exist only in the answer that creates them.
 */
export function createPartners(options: { store: Store; now?: () => Date }) {
  const { store } = options;
  const now = () => options.now?.() ?? new Date();

  function requirePartner(state: StoreState, id: string): PartnerRecord {
    const partner = own(state.partners, id);
    if (!partner) throw new AdminError('not_found', `no partner "${id}"`);
    return partner;
  }

  /** Names what a partner's fields refer to that does not exist. */
  function checkReferences(state: StoreState, self: string, fields: PartnerFields) {
    const problems: Array<{ code: 'invalid_document'; message: string; field: string }> = [];
    fields.products.forEach((p, i) => {
      if (!own(state.products, p)) problems.push({ code: 'invalid_document', message: `no product "${p}"`, field: `products.${i}` });
    });
    if (fields.plan !== undefined && !own(state.plans, fields.plan)) problems.push({ code: 'invalid_document', message: `no plan "${fields.plan}"`, field: 'plan' });
    for (const product of Object.keys(fields.limits)) if (!own(state.products, product)) problems.push({ code: 'invalid_document', message: `no product "${product}"`, field: `limits.${product}` });
    // a client id names one partner: two would make a token's partner depend on the order of records
    for (const [i, clientId] of fields.clientIds.entries())
      for (const other of Object.values(state.partners ?? {}))
        if (other.id !== self && other.clientIds.includes(clientId))
          problems.push({ code: 'invalid_document', message: `client id "${clientId}" identifies partner "${other.id}" already`, field: `clientIds.${i}` });
    if (problems.length > 0) throw new AdminError('validation_failed', problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems });
  }

  /** Runs one change: the body returns the next state, the entry (without time and actor) and the result. */
  async function change<T>(actor: Actor, action: AuditAction, body: (state: StoreState, time: string) => { state: StoreState; entry?: Partial<UnsealedEntry>; result: T }): Promise<T> {
    const { result } = await store.transact((current) => {
      const time = now().toISOString();
      const outcome = body(current, time);
      const { revision: _r, head: _h, ...next } = outcome.state;
      return { state: next, entry: { time, ...auditActor(actor), action, ...outcome.entry }, result: outcome.result };
    });
    return result;
  }

  const withPartner = (state: StoreState, partner: PartnerRecord): StoreState => ({ ...state, partners: { ...state.partners, [partner.id]: partner } });

  function setStatus(actor: Actor, id: string, status: PartnerRecord['status'], reason: string | undefined) {
    return change(actor, status === 'suspended' ? 'partner.suspend' : 'partner.reactivate', (state, time) => {
      const partner = requirePartner(state, id);
      const next: PartnerRecord = { ...partner, status, statusChangedAt: time, statusChangedBy: actor.name };
      return { state: withPartner(state, next), entry: { partner: id, detail: `${partner.status} -> ${status}${reason ? `: ${reason}` : ''}` }, result: next };
    });
  }

  /**
   * Adds a key to a partner; `replacing` (rotation) gets an expiry at the end of the overlap. With
   * `bounded` (a partner rotating its own key) an expired key cannot be rotated and the new key
   * expires when the old one would have: a partner never extends what its admin granted.
   */
  function addKey(actor: Actor, id: string, input: { scopes: string[]; expiresAt?: string | undefined }, replacing?: { keyId: string; overlapMs: number; bounded?: boolean }) {
    return change(actor, replacing ? 'key.rotate' : 'key.create', (state, time) => {
      const partner = requirePartner(state, id);
      const { key, prefix } = newApiKey(prefixesOf(state));
      if (input.expiresAt !== undefined && Date.parse(input.expiresAt) <= Date.parse(time)) throw new AdminError('validation_failed', 'expiresAt is in the past', { problems: [{ code: 'invalid_document', message: 'must be in the future', field: 'expiresAt' }] });
      let keys = partner.keys;
      let detail = `key ${prefix} created${input.expiresAt ? `, expires ${input.expiresAt}` : ''}`;
      let scopes = input.scopes;
      let newExpiry = input.expiresAt;
      if (replacing) {
        const old = keys.find((k) => k.id === replacing.keyId);
        if (!old) throw new AdminError('not_found', `partner "${id}" has no key "${replacing.keyId}"`);
        if (old.revokedAt !== undefined) throw new AdminError('conflict', `key "${old.id}" is revoked; create a new key instead`);
        if (replacing.bounded && old.expiresAt !== undefined) {
          if (Date.parse(old.expiresAt) <= Date.parse(time)) throw new AdminError('conflict', `key "${old.id}" has expired`);
          newExpiry = old.expiresAt;
        }
        const overlapEnd = new Date(Date.parse(time) + replacing.overlapMs).toISOString();
        const expiresAt = old.expiresAt !== undefined && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd;
        keys = keys.map((k) => (k.id === old.id ? { ...k, expiresAt } : k));
        scopes = scopes.length > 0 ? scopes : old.scopes;
        detail = `key ${old.id} replaced by ${prefix}; ${old.id} expires ${expiresAt}`;
      }
      const record: ApiKeyRecord = { id: prefix, prefix, hash: hashApiKey(key), scopes, createdAt: time, createdBy: actor.name, ...(newExpiry ? { expiresAt: newExpiry } : {}) };
      const next = { ...partner, keys: [...keys, record] };
      const { hash: _hash, ...shown } = record;
      return { state: withPartner(state, next), entry: { partner: id, detail }, result: { ...shown, key, partner: id, ...(replacing ? { replaced: replacing.keyId } : {}) } };
    });
  }

  /** Most client certificates one partner may have. */
  const MAX_CERTIFICATES = 50;

  /**
   * Client certificates: a fingerprint, subject CN or SAN entry names one partner at most (two
   * would make a certificate's partner depend on the order of records).
   */
  function addCertificate(actor: Actor, id: string, match: ClientCertificateMatch) {
    const input = normalCertificateMatch(match);
    return change(actor, 'certificate.add', (state, time) => {
      const partner = requirePartner(state, id);
      const certificates = partner.certificates ?? [];
      for (const other of Object.values(state.partners ?? {}))
        if ((other.certificates ?? []).some((c) => c.match === input.match && c.value === input.value))
          throw new AdminError('conflict', `the certificate ${input.match} "${input.value}" identifies partner "${other.id}" already`);
      if (certificates.length >= MAX_CERTIFICATES) throw new AdminError('validation_failed', `partner "${id}" has ${MAX_CERTIFICATES} certificates, the most it may have`, { problems: [{ code: 'invalid_document', message: `at most ${MAX_CERTIFICATES}`, field: 'certificates' }] });
      const taken = new Set(certificates.map((c) => c.id));
      let certId: string;
      do certId = `cert_${randomBytes(4).toString('hex')}`;
      while (taken.has(certId));
      const record: ClientCertificateRecord = { id: certId, ...input, createdAt: time, createdBy: actor.name };
      return { state: withPartner(state, { ...partner, certificates: [...certificates, record] }), entry: { partner: id, detail: `certificate ${certId} added: ${input.match} ${input.value}` }, result: record };
    });
  }

  function removeCertificate(actor: Actor, id: string, certId: string, reason?: string) {
    return change(actor, 'certificate.remove', (state) => {
      const partner = requirePartner(state, id);
      const certificates = partner.certificates ?? [];
      const cert = certificates.find((c) => c.id === certId);
      if (!cert) throw new AdminError('not_found', `partner "${id}" has no certificate "${certId}"`);
      const next = { ...partner, certificates: certificates.filter((c) => c.id !== certId) };
      return { state: withPartner(state, next), entry: { partner: id, detail: `certificate ${certId} removed (${cert.match} ${cert.value})${reason ? `: ${reason}` : ''}` }, result: { id: certId, partner: id } };
    });
  }

  /** Adds an HMAC secret to a partner; `replacing` (rotation) gets an expiry at the end of the overlap. The audit names the key id only. */
  function addHmacSecret(actor: Actor, id: string, replacing?: { secretId: string; overlapMs: number }) {
    return change(actor, replacing ? 'hmac-secret.rotate' : 'hmac-secret.create', (state, time) => {
      const partner = requirePartner(state, id);
      const { id: secretId, secret } = newHmacSecret(hmacIdsOf(state));
      let secrets = partner.hmacSecrets ?? [];
      let detail = `HMAC secret ${secretId} created`;
      if (replacing) {
        const old = secrets.find((k) => k.id === replacing.secretId);
        if (!old) throw new AdminError('not_found', `partner "${id}" has no HMAC secret "${replacing.secretId}"`);
        if (old.revokedAt !== undefined) throw new AdminError('conflict', `HMAC secret "${old.id}" is revoked; create a new one instead`);
        const overlapEnd = new Date(Date.parse(time) + replacing.overlapMs).toISOString();
        const expiresAt = old.expiresAt !== undefined && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd;
        secrets = secrets.map((k) => (k.id === old.id ? { ...k, expiresAt } : k));
        detail = `HMAC secret ${old.id} replaced by ${secretId}; ${old.id} expires ${expiresAt}`;
      }
      const record: HmacSecretRecord = { id: secretId, secret, createdAt: time, createdBy: actor.name };
      const { secret: _secret, ...shown } = record;
      return { state: withPartner(state, { ...partner, hmacSecrets: [...secrets, record] }), entry: { partner: id, detail }, result: { ...shown, secret, partner: id, ...(replacing ? { replaced: replacing.secretId } : {}) } };
    });
  }

  function revokeHmacSecret(actor: Actor, id: string, secretId: string, reason?: string) {
    return change(actor, 'hmac-secret.revoke', (state, time) => {
      const partner = requirePartner(state, id);
      const secrets = partner.hmacSecrets ?? [];
      const found = secrets.find((k) => k.id === secretId);
      if (!found) throw new AdminError('not_found', `partner "${id}" has no HMAC secret "${secretId}"`);
      if (found.revokedAt !== undefined) throw new AdminError('conflict', `HMAC secret "${secretId}" was revoked at ${found.revokedAt}`);
      const next = { ...partner, hmacSecrets: secrets.map((k) => (k.id === secretId ? { ...k, revokedAt: time, revokedBy: actor.name } : k)) };
      return { state: withPartner(state, next), entry: { partner: id, detail: `HMAC secret ${secretId} revoked${reason ? `: ${reason}` : ''}` }, result: { id: secretId, revokedAt: time } };
    });
  }

  return {
    createHmacSecret: (actor: Actor, id: string) => addHmacSecret(actor, id),
    rotateHmacSecret: (actor: Actor, id: string, secretId: string, overlap: string) => addHmacSecret(actor, id, { secretId, overlapMs: durationMs(overlap) }),
    revokeHmacSecret,

    createPartner(actor: Actor, id: string, fields: PartnerFields) {
      return change(actor, 'partner.create', (state, time) => {
        if (own(state.partners, id)) throw new AdminError('conflict', `partner "${id}" exists already`);
        checkReferences(state, id, fields);
        const partner: PartnerRecord = { id, ...fields, status: 'active', createdAt: time, createdBy: actor.name, keys: [] };
        return { state: withPartner(state, partner), entry: { partner: id, detail: `products: ${fields.products.join(', ') || 'none'}; plan: ${fields.plan ?? 'none'}` }, result: partner };
      });
    },

    updatePartner(actor: Actor, id: string, fields: PartnerFields) {
      return change(actor, 'partner.update', (state) => {
        const partner = requirePartner(state, id);
        checkReferences(state, id, fields);
        const next: PartnerRecord = { ...partner, ...fields, ...(fields.plan === undefined ? { plan: undefined } : {}) };
        return { state: withPartner(state, next), entry: { partner: id, detail: `products: ${fields.products.join(', ') || 'none'}; plan: ${fields.plan ?? 'none'}; client ids: ${fields.clientIds.join(', ') || 'none'}` }, result: next };
      });
    },

    suspend: (actor: Actor, id: string, reason?: string) => setStatus(actor, id, 'suspended', reason),
    reactivate: (actor: Actor, id: string, reason?: string) => setStatus(actor, id, 'active', reason),

    createKey: (actor: Actor, id: string, input: { scopes: string[]; expiresAt?: string | undefined }) => addKey(actor, id, input),

    rotateKey: (actor: Actor, id: string, keyId: string, overlap: string, scopes: string[]) => addKey(actor, id, { scopes }, { keyId, overlapMs: durationMs(overlap) }),

    /** A partner rotating its own key: the old key's scopes, never a later expiry than the old key's, never an expired key. */
    rotateOwnKey: (actor: Actor, id: string, keyId: string, overlapMs: number) => addKey(actor, id, { scopes: [] }, { keyId, overlapMs, bounded: true }),

    revokeKey(actor: Actor, id: string, keyId: string, reason?: string) {
      return change(actor, 'key.revoke', (state, time) => {
        const partner = requirePartner(state, id);
        const key = partner.keys.find((k) => k.id === keyId);
        if (!key) throw new AdminError('not_found', `partner "${id}" has no key "${keyId}"`);
        if (key.revokedAt !== undefined) throw new AdminError('conflict', `key "${keyId}" was revoked at ${key.revokedAt}`);
        const next = { ...partner, keys: partner.keys.map((k) => (k.id === keyId ? { ...k, revokedAt: time, revokedBy: actor.name } : k)) };
        return { state: withPartner(state, next), entry: { partner: id, detail: `key ${keyId} revoked${reason ? `: ${reason}` : ''}` }, result: { id: keyId, revokedAt: time } };
      });
    },

    addCertificate,
    removeCertificate,

    putProduct(actor: Actor, id: string, fields: ProductFields) {
      return change(actor, 'product.put', (state) => {
        const unknown = fields.workflows.map((w, i) => ({ w, i })).filter(({ w }) => !state.workflows.has(w));
        if (unknown.length > 0)
          throw new AdminError('validation_failed', unknown.map(({ w }) => `no workflow "${w}"`).join('; '), { problems: unknown.map(({ w, i }) => ({ code: 'invalid_document', message: `no workflow "${w}"`, field: `workflows.${i}` })) });
        const product: ProductRecord = { id, ...fields };
        const created = !own(state.products, id);
        return { state: { ...state, products: { ...state.products, [id]: product } }, entry: { product: id, detail: `${created ? 'created' : 'updated'}; workflows: ${fields.workflows.join(', ') || 'none'}` }, result: product };
      });
    },

    putPlan(actor: Actor, id: string, fields: PlanFields) {
      return change(actor, 'plan.put', (state) => {
        const unknown = Object.keys(fields.limits).filter((p) => !own(state.products, p));
        if (unknown.length > 0)
          throw new AdminError('validation_failed', unknown.map((p) => `no product "${p}"`).join('; '), { problems: unknown.map((p) => ({ code: 'invalid_document', message: `no product "${p}"`, field: `limits.${p}` })) });
        const plan: PlanRecord = { id, ...fields };
        const created = !own(state.plans, id);
        const limits = Object.entries(fields.limits).map(([p, l]) => `${p} ${l.limit}/${l.window}`).join(', ');
        return { state: { ...state, plans: { ...state.plans, [id]: plan } }, entry: { plan: id, detail: `${created ? 'created' : 'updated'}; limits: ${limits || 'none'}` }, result: plan };
      });
    },

    requirePartner,
  };
}

export type Partners = ReturnType<typeof createPartners>;

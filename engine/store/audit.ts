import { createHash } from 'node:crypto';
import { runAtOnce, sliceCounter, type Sliced } from '../../shared/compile/slices.ts';

/** What an audit entry records. Refusals are recorded too: who tried what and why it was refused. */
const AUDIT_ACTIONS = [
  'workflow.create',
  'draft.save',
  'workflow.publish',
  'workflow.approval-requested',
  'workflow.approval-approved',
  'workflow.approval-refused',
  'workflow.rollback',
  'workflow.deprecate',
  'workflow.retire',
  'workflow.unpublish',
  'workflow.archive',
  'workflow.restore',
  'workflow.delete',
  'catalog.update',
  'workflow.simulate',
  'workflow.compare',
  'partner.create',
  'partner.update',
  'partner.suspend',
  'partner.reactivate',
  'key.create',
  'key.revoke',
  'key.rotate',
  'certificate.add',
  'certificate.remove',
  'hmac-secret.create',
  'hmac-secret.revoke',
  'hmac-secret.rotate',
  'product.put',
  'plan.put',
  'store.migrate',
  'cache.purge',
  'fragment.create',
  'fragment.save',
  'fragment.publish',
  'fragment.rollback',
  'canary.start',
  'canary.update',
  'canary.promote',
  'canary.abort',
  'rules.update',
  'refused',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One link of the audit chain. `hash` covers every other field, including `prevHash`. */
export interface AuditEntry {
  seq: number;
  time: string;
  actor: string;
  role: string;
  /** How the actor acted, when not through the HTTP API: `mcp` for the admin MCP server. */
  via?: 'mcp';
  action: AuditAction;
  workflow?: string;
  /** The fragment (shared flow) a change concerns; `version` is then the fragment's. */
  fragment?: string;
  version?: number;
  /** The partner a partner or key change concerns. */
  partner?: string;
  /** The product or plan a change concerns. */
  product?: string;
  plan?: string;
  /** sha256 of the document the change concerns (draft, version or catalog). */
  documentHash?: string;
  /** What was attempted, for refusals; what changed, in words, for changes. */
  detail?: string;
  /** How many refused attempts the entry stands for, when they were counted rather than written one by one (see engine/admin/refusal-audit.ts). */
  count?: number;
  prevHash: string;
  hash: string;
}

export type UnsealedEntry = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>;

/** Who an entry names: the actor's name and role, and `via` when they acted through MCP. */
export function auditActor(identity: { name: string; role: string; via?: 'mcp' | undefined }): Pick<AuditEntry, 'actor' | 'role' | 'via'> {
  return identity.via === undefined ? { actor: identity.name, role: identity.role } : { actor: identity.name, role: identity.role, via: identity.via };
}

/** The hash before the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Stable JSON: keys sorted, so the hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  return `{${sortedEntries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** An object's defined members by key in code-unit order: canonical JSON's order. */
function sortedEntries(value: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash of a document as the audit log and versions record it. */
export function documentHash(document: unknown): string {
  return storedDocument(document).hash;
}

/** A document as the store keeps it: its canonical JSON and that text's hash (its name). */
export interface StoredDocument {
  hash: string;
  text: string;
}

/** A document as the store keeps it, made at once. */
export function storedDocument(document: unknown): StoredDocument {
  return runAtOnce(storedDocumentSliced(document));
}

/**
 * A document as the store keeps it, made in slices: the members of its top two levels (the
 * nodes, the edges, the layout's entries) a few hundred at a time, each by canonicalJson, so the
 * text is the same as canonicalJson's and a 10,000-node document never holds the event loop.
 */
export function* storedDocumentSliced(document: unknown): Sliced<StoredDocument> {
  const text = yield* canonicalJsonSliced(document, 2);
  return { hash: sha256(text), text };
}

function* canonicalJsonSliced(value: unknown, levels: number): Sliced<string> {
  if (levels === 0 || value === null || typeof value !== 'object') return canonicalJson(value);
  const members = Array.isArray(value) ? value.entries() : sortedEntries(value as Record<string, unknown>);
  const parts: Array<string | undefined> = [];
  const due = sliceCounter();
  for (const [key, member] of members) {
    if (due()) yield;
    const text = yield* canonicalJsonSliced(member, levels - 1);
    parts.push(Array.isArray(value) ? text : `${JSON.stringify(key)}:${text}`);
  }
  return Array.isArray(value) ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
}

/** Links an entry to the chain: its sequence number, the previous hash, and its own hash. */
export function sealEntry(entry: UnsealedEntry, previous: Pick<AuditEntry, 'seq' | 'hash'> | undefined): AuditEntry {
  // A sealed entry passed again must not carry its old link fields into the new hash.
  const { seq: _seq, prevHash: _prevHash, hash: _hash, ...content } = entry as UnsealedEntry & Partial<Pick<AuditEntry, 'seq' | 'prevHash' | 'hash'>>;
  const unsealed = { ...content, seq: (previous?.seq ?? 0) + 1, prevHash: previous?.hash ?? GENESIS_HASH };
  return { ...unsealed, hash: sha256(canonicalJson(unsealed)) };
}

type AuditProblem = 'hash_mismatch' | 'broken_link' | 'sequence_gap' | 'malformed' | 'truncated' | 'head_mismatch';

export type AuditVerification =
  | { ok: true; entries: number; head: string }
  | {
      ok: false;
      entries: number;
      /** The sequence number concerned (for a malformed line, its position). */
      at: number;
      /** The 1-based line of the log where the problem shows. */
      position: number;
      problem: AuditProblem;
      message: string;
    };

/** What the store committed last, which the log must still reach: its revision and that entry's hash. */
export interface AuditAnchor {
  revision: number;
  head?: string | undefined;
}

/**
 * Walks the chain and reports the first entry that was edited (its hash no longer matches),
 * removed (a sequence gap or a broken link) or moved (sequence or link out of order). With the
 * store's anchor it also catches what a chain alone cannot: entries cut off the end, or a last
 * entry replaced and resealed.
 */
export function verifyAuditChain(entries: ReadonlyArray<unknown>, anchor?: AuditAnchor): AuditVerification {
  const fail = (position: number, at: number, problem: AuditProblem, message: string): AuditVerification => ({ ok: false, entries: entries.length, at, position, problem, message });
  const seqs = new Set(entries.map((e) => (e as { seq?: unknown } | null)?.seq));
  let previous: AuditEntry | undefined;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as AuditEntry;
    const position = i + 1;
    if (typeof entry !== 'object' || entry === null || typeof entry.hash !== 'string' || typeof entry.seq !== 'number')
      return fail(position, position, 'malformed', `line ${position} is not an audit entry`);
    const { hash, ...rest } = entry;
    if (sha256(canonicalJson(rest)) !== hash) return fail(position, entry.seq, 'hash_mismatch', `entry ${entry.seq} (line ${position}) was altered: its hash does not match its content`);
    const expectedSeq = (previous?.seq ?? 0) + 1;
    if (entry.seq !== expectedSeq) {
      const why = seqs.has(expectedSeq) ? `entries are out of order: entry ${expectedSeq} comes later in the log` : `entry ${expectedSeq} is missing`;
      return fail(position, entry.seq, 'sequence_gap', `entry ${entry.seq} (line ${position}) follows entry ${previous?.seq ?? 0}: ${why}`);
    }
    if (entry.prevHash !== (previous?.hash ?? GENESIS_HASH)) return fail(position, entry.seq, 'broken_link', `entry ${entry.seq} (line ${position}) does not link to the entry before it`);
    if (anchor?.head !== undefined && entry.seq === anchor.revision && hash !== anchor.head)
      return fail(position, entry.seq, 'head_mismatch', `entry ${entry.seq} (line ${position}) is not the one the store committed as its last change`);
    previous = entry;
  }
  const last = previous?.seq ?? 0;
  if (anchor && last < anchor.revision)
    return fail(entries.length + 1, last + 1, 'truncated', `the log ends at entry ${last}, but the store committed ${anchor.revision} entries: entries were cut off its end`);
  return { ok: true, entries: entries.length, head: previous?.hash ?? GENESIS_HASH };
}

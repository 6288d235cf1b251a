import { createHash } from 'node:crypto';

/** What an audit entry records. Refusals are recorded too: who tried what and why it was refused. */
export const AUDIT_ACTIONS = [
  'workflow.create',
  'draft.save',
  'workflow.publish',
  'workflow.rollback',
  'workflow.deprecate',
  'workflow.retire',
  'workflow.unpublish',
  'catalog.update',
  'refused',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One link of the audit chain. `hash` covers every other field, including `prevHash`. */
export interface AuditEntry {
  seq: number;
  time: string;
  actor: string;
  role: string;
  action: AuditAction;
  workflow?: string;
  version?: number;
  /** sha256 of the document the change concerns (draft, version or catalog). */
  documentHash?: string;
  /** What was attempted, for refusals; what changed, in words, for changes. */
  detail?: string;
  prevHash: string;
  hash: string;
}

export type UnsealedEntry = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>;

/** The hash before the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Stable JSON: keys sorted, so the hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash of a document as the audit log and versions record it. */
export function documentHash(document: unknown): string {
  return sha256(canonicalJson(document));
}

/** Links an entry to the chain: its sequence number, the previous hash, and its own hash. */
export function sealEntry(entry: UnsealedEntry, previous: Pick<AuditEntry, 'seq' | 'hash'> | undefined): AuditEntry {
  const unsealed = { ...entry, seq: (previous?.seq ?? 0) + 1, prevHash: previous?.hash ?? GENESIS_HASH };
  return { ...unsealed, hash: sha256(canonicalJson(unsealed)) };
}

export type AuditVerification =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; at: number; problem: 'hash_mismatch' | 'broken_link' | 'sequence_gap' | 'malformed'; message: string };

/**
 * Walks the chain and reports the first entry that was edited (its hash no longer matches),
 * removed (a sequence gap or a broken link) or moved (sequence or link out of order).
 */
export function verifyAuditChain(entries: ReadonlyArray<unknown>): AuditVerification {
  let previous: AuditEntry | undefined;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as AuditEntry;
    const position = i + 1;
    if (typeof entry !== 'object' || entry === null || typeof entry.hash !== 'string' || typeof entry.seq !== 'number')
      return { ok: false, entries: entries.length, at: position, problem: 'malformed', message: `entry ${position} is not an audit entry` };
    const { hash, ...rest } = entry;
    if (sha256(canonicalJson(rest)) !== hash)
      return { ok: false, entries: entries.length, at: entry.seq, problem: 'hash_mismatch', message: `entry ${entry.seq} was altered: its hash does not match its content` };
    const expectedSeq = (previous?.seq ?? 0) + 1;
    if (entry.seq !== expectedSeq)
      return { ok: false, entries: entries.length, at: entry.seq, problem: 'sequence_gap', message: `entry ${entry.seq} follows entry ${previous?.seq ?? 0}: expected ${expectedSeq} (an entry is missing or out of order)` };
    if (entry.prevHash !== (previous?.hash ?? GENESIS_HASH))
      return { ok: false, entries: entries.length, at: entry.seq, problem: 'broken_link', message: `entry ${entry.seq} does not link to the entry before it` };
    previous = entry;
  }
  return { ok: true, entries: entries.length, head: previous?.hash ?? GENESIS_HASH };
}

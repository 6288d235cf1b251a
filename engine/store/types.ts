import type { PendingApproval } from '../../shared/admin/approvals.ts';
import type { CanaryRecord, DraftRecord, VersionRecord } from '../../shared/schema/lifecycle.ts';
import type { PartnerRecord, PlanRecord, ProductRecord } from '../../shared/schema/partners.ts';
import type { RuleSet } from '../../shared/schema/rules.ts';
import type { AuditEntry, AuditVerification, StoredDocument, UnsealedEntry } from './audit.ts';
import { deepFreeze, type RecordMap } from './record-map.ts';

export type { VersionRecord } from '../../shared/schema/lifecycle.ts';

export interface WorkflowRecord {
  id: string;
  createdAt: string;
  createdBy: string;
  draft: DraftRecord | undefined;
  versions: VersionRecord[];
  active: number | undefined;
  /** A candidate version serving a share of the requests beside the active one; optional: stores written before canaries load unchanged. */
  canary?: CanaryRecord;
  /**
   * Set while the workflow is archived: nothing of it is served (active is undefined), its route is
   * free for others, its draft and versions stay for audit, and it takes no edit until restored.
   * Optional: stores written before archiving load unchanged (no format step).
   */
  archived?: ArchiveRecord;
  /**
   * A publish that removes or changes an answer of the error contract, waiting for a second
   * publisher (the contract gate). Optional: stores written before the gate load unchanged.
   */
  approval?: PendingApproval;
}

/**
 * A shared flow (a fragment): drafts and numbered immutable versions like a workflow's, one active
 * version that subflow nodes run unless they pin one; never served on its own (it has no route),
 * never archived.
 */
export type FragmentRecord = Omit<WorkflowRecord, 'archived' | 'canary' | 'approval'>;

/** Who archived a workflow, when and why; `version` is the version that served then, which a restore serves again if it still can. */
interface ArchiveRecord {
  at: string;
  by: string;
  reason?: string;
  version?: number;
}

/** Everything the store knows, as of `revision` (the sequence number of the last audit entry). */
export interface StoreState {
  /** The store's format (engine/store/migrations.ts): a store is brought to this build's at open. */
  format: number;
  revision: number;
  /** Hash of the audit entry numbered `revision`: anchors the log's end (absent before the first change). */
  head?: string | undefined;
  /** By id, as an immutable map: a change to one workflow shares the others (`state.workflows.with(id, record)`). */
  workflows: RecordMap<WorkflowRecord>;
  /** Shared flows by id; optional: stores written before fragments load unchanged (no format step). */
  fragments?: Record<string, FragmentRecord>;
  /** Content hash of the error catalog in use. */
  catalog: string | undefined;
  /** Partners by id, with their API keys (hashes only) and client ids. */
  partners: Record<string, PartnerRecord>;
  /** API products by id: named sets of workflows a partner subscribes to. */
  products: Record<string, ProductRecord>;
  /** Plans by id: default rate limits per product. */
  plans: Record<string, PlanRecord>;
  /** Organisation rules every workflow is validated against; optional: stores written before rules load unchanged (no format step). */
  rules?: RuleSet;
}

/** The outcome of a transaction body: the next state and the audit entry that records it. */
export interface Transition<T> {
  /** The new state (without `revision` and `head`: the store sets them), or undefined when only the entry is recorded (a refusal). */
  state?: Omit<StoreState, 'revision' | 'head'>;
  /** Documents the new state refers to, by content hash (storedDocument makes them). */
  documents?: ReadonlyArray<StoredDocument>;
  entry: UnsealedEntry;
  result: T;
}

/**
 * Freezes a state and everything in it that is not frozen yet, and returns it. Stores hand out
 * frozen states, so readers share one object instead of each getting a copy, and a body builds
 * its next state from the one it was given (sharing what it leaves unchanged) instead of
 * changing it: what is shared with a frozen state is not walked again.
 */
export function freezeState<T>(value: T): T {
  return deepFreeze(value);
}

/**
 * Where workflows, versions, the catalog and the audit log live. Every change goes through
 * `transact`: the body reads the current state and returns the next one with its audit entry,
 * and the store writes both together or neither. The body may be run again (optimistic stores).
 * States are frozen (freezeState): `state()` and a body's argument are shared, never copied.
 */
export interface Store {
  readonly kind: 'file' | 'redis';
  state(): Promise<StoreState>;
  /** A document by content hash (drafts, versions, catalogs). */
  document(hash: string): Promise<unknown>;
  /** A document's text as stored: its canonical JSON (audit.ts), which is its hash's input. */
  documentText(hash: string): Promise<string>;
  transact<T>(body: (state: StoreState) => Transition<T> | Promise<Transition<T>>): Promise<{ revision: number; entry: AuditEntry; result: T }>;
  audit(options?: { after?: number; limit?: number }): Promise<AuditEntry[]>;
  /**
   * Walks the audit log as stored, line by line (a line that is not JSON is reported, not thrown),
   * anchored to the revision and head hash the store committed, so a cut-off end shows too.
   */
  verifyAudit(): Promise<AuditVerification>;
  /** Called after every change this store sees (its own or, where the store can tell, other processes'). */
  onChange(listener: (revision: number) => void): () => void;
  close(): Promise<void>;
}

/** The store cannot be reached (Redis down or not answering): nothing was changed; try again later. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

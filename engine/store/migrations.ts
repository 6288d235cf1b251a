import type { StoredDocument } from './audit.ts';
import { RecordMap } from './record-map.ts';
import type { Store, StoreState, WorkflowRecord } from './types.ts';

/** A state as a migration hands it on: the store sets `revision` and `head`, migrateStore the format. */
type MigratedState = Omit<StoreState, 'revision' | 'head' | 'format'>;

/** One step of the store's format, from n to n + 1: a named function of the state, committed as one audited change. */
export interface Migration {
  name: string;
  /** What the step changes, in words: the detail of its audit entry. */
  summary: string;
  migrate(state: StoreState, document: (hash: string) => Promise<unknown>): Promise<{ state: MigratedState; documents?: StoredDocument[] }>;
}

/**
 * Format 1 (every store written before formats were recorded) may lack the head hash in its
 * state: the log's last entry is it. Committing this step records it, as every commit does.
 */
const recordHead: Migration = {
  name: 'recordHead',
  summary: 'the state records the hash of the audit log’s last entry',
  migrate: async (state) => ({ state }),
};

/** Format 2 may lack partners, products and plans (stores written before partners): they become empty sets. */
const recordPartners: Migration = {
  name: 'recordPartners',
  summary: 'partners, products and plans are recorded, empty where the store had none',
  migrate: async (state) => ({ state: { ...state, partners: state.partners ?? {}, products: state.products ?? {}, plans: state.plans ?? {} } }),
};

/**
 * Format 3 to 4: the file store keeps a change log (changes.jsonl) beside a snapshot of the state
 * that only now and then is written whole. The state itself does not change; the step is there so
 * that a build of format 3, which would read the snapshot without the log (an older state) and
 * fork the audit chain on it, refuses the store instead.
 */
const recordChangeLog: Migration = {
  name: 'recordChangeLog',
  summary: 'the file store writes each change as a line of its change log, and the whole state only now and then',
  migrate: async (state) => ({ state }),
};

/** The steps in order: MIGRATIONS[n - 1] takes format n to n + 1. */
export const MIGRATIONS: readonly Migration[] = [recordHead, recordPartners, recordChangeLog];

/** The format this build writes. */
export const STORE_FORMAT = MIGRATIONS.length + 1;

/** A state of today's format with nothing in it: a new store. */
const EMPTY_STATE: StoreState = { format: STORE_FORMAT, revision: 0, workflows: RecordMap.empty(), catalog: undefined, partners: {}, products: {}, plans: {} };

/**
 * A state as stored (JSON: its workflows a plain object): one that records no format is format 1,
 * unless nothing was ever committed (a new store, today's format).
 */
export function readState(stored: unknown): StoreState {
  if (stored === null || stored === undefined) return EMPTY_STATE;
  const state = stored as Omit<StoreState, 'format' | 'workflows'> & { format?: number; workflows?: Record<string, WorkflowRecord> };
  return { ...state, workflows: RecordMap.from(state.workflows ?? {}), format: state.format ?? (state.revision === 0 ? STORE_FORMAT : 1) } as StoreState;
}

/** The store is of a format this build does not know (written by a newer Sluice). */
export class UnknownStoreFormatError extends Error {
  constructor(where: string, format: number) {
    super(`the store at ${where} is of format ${format}, but this build of Sluice knows formats up to ${STORE_FORMAT}: run a Sluice that knows format ${format} (or restore a backup of the store)`);
    this.name = 'UnknownStoreFormatError';
  }
}

/** Another process migrated the store meanwhile: read its format again. */
class MigratedElsewhere extends Error {}

/**
 * Brings a store to STORE_FORMAT at open, one step at a time, each step one audited change
 * (action `store.migrate`). Several processes opening one store at once take turns: a step is
 * decided on the state it commits on, and one whose format moved meanwhile is not applied again.
 * A store of a format newer than this build's is refused, unchanged.
 */
export async function migrateStore(store: Pick<Store, 'state' | 'document' | 'transact'>, where: string): Promise<void> {
  for (;;) {
    const format = (await store.state()).format;
    if (format > STORE_FORMAT) throw new UnknownStoreFormatError(where, format);
    if (format === STORE_FORMAT) return;
    try {
      await store.transact(async (state) => {
        if (state.format !== format) throw new MigratedElsewhere();
        const migration = MIGRATIONS[format - 1]!;
        const step = await migration.migrate(state, (hash) => store.document(hash));
        const detail = `format ${format} to ${format + 1} (${migration.name}): ${migration.summary}`;
        return { state: { ...step.state, format: format + 1 }, documents: step.documents ?? [], entry: { time: new Date().toISOString(), actor: 'system', role: 'admin', action: 'store.migrate', detail }, result: undefined };
      });
    } catch (error) {
      if (!(error instanceof MigratedElsewhere)) throw error;
    }
  }
}

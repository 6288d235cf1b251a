import { fragmentDocumentSchema, type FragmentDocument, type FragmentResolver } from '../../shared/schema/index.ts';
import type { FragmentRecord, Store, StoreState } from '../store/types.ts';

/** One fragment version standing in for the published ones: the draft a fragment publish checks its dependents with. */
export interface FragmentOverride {
  id: string;
  version: number;
  document: FragmentDocument;
}

/** A fragment by id; own properties only, so "constructor" never finds Object's members. */
export function fragmentOf(state: StoreState, id: string): FragmentRecord | undefined {
  return state.fragments !== undefined && Object.hasOwn(state.fragments, id) ? state.fragments[id] : undefined;
}

/**
 * The published fragments of a store state as a resolver for validation: each version's document
 * is read once (documents are named by their content, so a version never changes).
 */
export function createFragmentLibrary(store: Store) {
  const documents = new Map<string, FragmentDocument>();

  async function read(hash: string): Promise<FragmentDocument> {
    let document = documents.get(hash);
    if (document === undefined) {
      // a version passed validation when it was published: its document parses
      document = fragmentDocumentSchema.parse(await store.document(hash));
      documents.set(hash, document);
    }
    return document;
  }

  /** The resolver of `state`'s published fragments; `override` answers for its fragment's active version. */
  async function resolver(state: StoreState, override?: FragmentOverride): Promise<FragmentResolver> {
    const versions = new Map<string, Map<number, FragmentDocument>>();
    const active = new Map<string, number>();
    for (const record of Object.values(state.fragments ?? {})) {
      const byNumber = new Map<number, FragmentDocument>();
      for (const v of record.versions) byNumber.set(v.version, await read(v.hash));
      versions.set(record.id, byNumber);
      if (record.active !== undefined) active.set(record.id, record.active);
    }
    if (override) {
      const byNumber = new Map(versions.get(override.id));
      byNumber.set(override.version, override.document);
      versions.set(override.id, byNumber);
      active.set(override.id, override.version);
    }
    return (id, version) => {
      const n = version ?? active.get(id);
      const document = n === undefined ? undefined : versions.get(id)?.get(n);
      return document === undefined ? undefined : { version: n!, document };
    };
  }

  return {
    resolver,
    /** The resolver of the store's current state. */
    async current(): Promise<FragmentResolver> {
      return resolver(await store.state());
    },
  };
}

export type FragmentLibrary = ReturnType<typeof createFragmentLibrary>;

import { afterEach } from 'vitest';
import { storedDocument } from '../../../engine/store/audit.ts';
import type { Store } from '../../../engine/store/types.ts';

/** Saves a draft of workflow "orders" whose document carries `note`: one change, one document, one audit entry. */
export async function saveDraft(store: Store, note: string) {
  const document = { id: 'orders', note };
  const stored = storedDocument(document);
  const { hash } = stored;
  return store.transact((state) => ({
    state: { ...state, workflows: state.workflows.with('orders', { id: 'orders', createdAt: 't', createdBy: 'a', draft: { hash, revision: (state.workflows.get('orders')?.draft?.revision ?? 0) + 1, updatedAt: 't', updatedBy: 'a' }, versions: [], active: undefined }) },
    documents: [stored],
    entry: { time: new Date().toISOString(), actor: 'a', role: 'editor', action: 'draft.save', workflow: 'orders', documentHash: hash },
    result: hash,
  }));
}

/** A store kind as a test opens it: a store at a place, and how to delete the place. */
interface OpensStores {
  open(place: string): Promise<Store>;
  cleanup(place: string): Promise<void>;
}

/** The stores a test opens and the places it makes: closed and deleted after each test. */
export function storesOfTest(kind: OpensStores) {
  const places: string[] = [];
  const opened: Store[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const place of places.splice(0)) await kind.cleanup(place);
  });
  return {
    /** Deletes `place` after the test. */
    place(place: string) {
      places.push(place);
      return place;
    },
    async open(place: string) {
      const store = await kind.open(place);
      opened.push(store);
      return store;
    },
    /** Closes a store before the test ends (to open its place again). */
    async close(store: Store) {
      opened.splice(opened.indexOf(store), 1);
      await store.close();
    },
  };
}

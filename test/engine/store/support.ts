import { storedDocument } from '../../../engine/store/audit.ts';
import type { Store } from '../../../engine/store/types.ts';

/** Saves a draft of workflow "orders" whose document carries `note`: one change, one document, one audit entry. */
export async function saveDraft(store: Store, note: string) {
  const document = { id: 'orders', note };
  const stored = storedDocument(document);
  const { hash } = stored;
  return store.transact((state) => ({
    state: { ...state, workflows: { ...state.workflows, orders: { id: 'orders', createdAt: 't', createdBy: 'a', draft: { hash, revision: (state.workflows.orders?.draft?.revision ?? 0) + 1, updatedAt: 't', updatedBy: 'a' }, versions: [], active: undefined } } },
    documents: [stored],
    entry: { time: new Date().toISOString(), actor: 'a', role: 'editor', action: 'draft.save', workflow: 'orders', documentHash: hash },
    result: hash,
  }));
}

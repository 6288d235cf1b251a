// Commits changes to a file store as fast as it can and prints "ack <revision>" after each
// one the store acknowledged; the test kills this process with SIGKILL at a random moment.
import { storedDocument } from '../../../engine/store/audit.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';

const store = await openFileStore(process.argv[2]!);
for (let i = 0; ; i++) {
  const document = { id: 'orders', note: `change ${i}`, padding: 'x'.repeat(i % 7 === 0 ? 20_000 : 10) };
  const stored = storedDocument(document);
  const { hash } = stored;
  const { revision } = await store.transact((state) => ({
    state: {
      ...state,
      workflows: state.workflows.with('orders', { id: 'orders', createdAt: 't', createdBy: 'w', draft: { hash, revision: (state.workflows.get('orders')?.draft?.revision ?? 0) + 1, updatedAt: 't', updatedBy: 'writer' }, versions: [], active: undefined }),
    },
    documents: [stored],
    entry: { time: new Date().toISOString(), actor: 'writer', role: 'editor', action: 'draft.save', workflow: 'orders', documentHash: hash },
    result: undefined,
  }));
  process.stdout.write(`ack ${revision}\n`);
}

import { useCallback, useContext, useSyncExternalStore } from 'react';
import { MarksContext } from '../editor-context.ts';
import type { NodeMarks } from '../graph/marks.ts';

/** The marks of one node; the node redraws only when its own marks change. */
export function useNodeMarks(id: string): NodeMarks {
  const store = useContext(MarksContext);
  const get = useCallback(() => store.get(id), [store, id]);
  return useSyncExternalStore(store.subscribe, get, get);
}

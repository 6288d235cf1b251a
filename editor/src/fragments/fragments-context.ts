import { createContext, useContext } from 'react';
import type { FragmentSummary } from '../api/types.ts';
import type { Resource } from '../hooks/useResource.ts';
// The styles of what fragments add to every canvas (a subflow node's fragment line, exit nodes) and to their pages.
import './fragments.css';

/** The fragments (shared flows) as GET /fragments listed them when the workflow was opened: the subflow nodes' choices and names. */
export const FragmentsContext = createContext<Resource<FragmentSummary[]>>({ status: 'loading' });

/** The fragment a subflow node names, once the list is loaded. */
export function useFragment(id: unknown): FragmentSummary | undefined {
  const fragments = useContext(FragmentsContext);
  return fragments.status === 'ready' && typeof id === 'string' ? fragments.value.find((f) => f.id === id) : undefined;
}

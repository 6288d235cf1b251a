import { ReactFlowProvider } from '@xyflow/react';
import { useMemo } from 'react';
import { describeError } from '../api/client.ts';
import type { KindsPayload } from '../api/types.ts';
import { KindsContext, kindIndex, useSessionContext } from '../editor-context.ts';
import type { DraftDocument } from '../graph/convert.ts';
import { fragmentsHref } from '../hooks/useHashRoute.ts';
import { useResource } from '../hooks/useResource.ts';
import { FragmentEditor } from './FragmentEditor.tsx';

/** Kinds a fragment may not use: a fragment cannot hold another (shared/schema/fragment.ts). */
const NOT_IN_FRAGMENTS = new Set(['subflow']);

/** Loads a fragment (its draft, else its active version) and opens its editor, with a palette without subflow nodes. */
export function FragmentScreen({ id, kinds }: { id: string; kinds: KindsPayload }) {
  const { api } = useSessionContext();
  const { resource, reload } = useResource(async () => {
    const view = await api.fragment(id);
    const document = view.draft ? view.draft.document : view.active !== null ? (await api.fragmentVersion(id, view.active)).document : { id, exits: [{ name: 'ok' }] };
    return { view, document: document as DraftDocument };
  }, `fragment:${id}`);
  const index = useMemo(() => {
    const allowed = kinds.kinds.filter((k) => !NOT_IN_FRAGMENTS.has(k.kind));
    return kindIndex(
      kinds.categories.filter((c) => allowed.some((k) => k.category === c)),
      allowed,
    );
  }, [kinds]);

  if (resource.status === 'loading') return <p className="loading">Opening fragment {id}…</p>;
  if (resource.status === 'error')
    return (
      <div className="page">
        <p className="field__error" role="alert">
          Cannot open fragment “{id}”. {describeError(resource.error)}
        </p>
        <a href={fragmentsHref}>Back to the fragments</a>
      </div>
    );
  return (
    <KindsContext.Provider value={index}>
      <ReactFlowProvider>
        <FragmentEditor key={id} view={resource.value.view} document={resource.value.document} onChanged={reload} />
      </ReactFlowProvider>
    </KindsContext.Provider>
  );
}

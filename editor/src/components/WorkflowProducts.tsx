import { partnersHref } from '../hooks/useHashRoute.ts';
import { useSessionContext } from '../editor-context.ts';
import { useResource } from '../hooks/useResource.ts';

/**
 * The API products that include a workflow, in its editor's title bar: partners subscribed to
 * one of them may call it; with none, every identified partner may.
 */
export function WorkflowProducts({ id }: { id: string }) {
  const { api } = useSessionContext();
  const { resource } = useResource(() => api.products(), `products:${id}`);
  if (resource.status !== 'ready') return null;
  const including = resource.value.products.filter((p) => p.workflows.includes(id));
  return (
    <span className="editor__products" aria-label="API products">
      {including.length === 0 ? (
        <span className="muted" title="No API product includes this workflow: every partner its identity node accepts may call it.">
          in no product
        </span>
      ) : (
        including.map((p) => (
          <a key={p.id} href={partnersHref} className="chip chip--product" title={`API product ${p.id}: partners subscribed to it may call this workflow`}>
            {p.name}
          </a>
        ))
      )}
    </span>
  );
}

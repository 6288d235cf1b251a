import type { PortalCatalog, PortalProduct } from '../../../shared/portal/index.ts';
import { useResource } from '../hooks/useResource.ts';
import { Access, LifecycleChip, loadState, routeText } from './parts.tsx';
import { portalGet } from './portal-client.ts';
import { usePortalReader } from './portal-context.ts';
import { PortalLink } from './PortalLink.tsx';
import { portalHref } from './route.ts';

/** /portal: every API product with its published workflows and its plans' limits. */
export function CatalogPage() {
  const reader = usePortalReader();
  const { resource } = useResource(() => portalGet<PortalCatalog>('/catalog', reader), `catalog ${reader.token ?? ''} ${reader.preview ?? ''}`);
  const state = loadState(resource, 'catalog');
  return (
    <main className="portal-main" aria-labelledby="catalog-title">
      <h1 id="catalog-title">API products</h1>
      <p className="muted">Every product, its routes and the answers they give, read from what the gateway serves now.</p>
      {state ??
        (resource.status === 'ready' && resource.value.products.length === 0 ? (
          <p>No API product is published yet.</p>
        ) : resource.status === 'ready' ? (
          <ul className="portal-products" aria-label="Products">
            {resource.value.products.map((product) => (
              <li key={product.id} aria-label={product.name}>
                <ProductCard product={product} preview={reader.preview} />
              </li>
            ))}
          </ul>
        ) : null)}
    </main>
  );
}

export function ProductCard({ product, preview, heading = 'h2' }: { product: PortalProduct; preview: string | undefined; heading?: 'h1' | 'h2' }) {
  const Heading = heading;
  return (
    <section className="portal-card" aria-labelledby={`product-${product.id}`}>
      <Heading id={`product-${product.id}`}>{heading === 'h2' ? <PortalLink href={portalHref(`/portal/products/${encodeURIComponent(product.id)}`, preview)}>{product.name}</PortalLink> : product.name}</Heading>
      {product.description ? <p>{product.description}</p> : null}
      <h3>Routes</h3>
      <ul className="portal-workflows" aria-label={`Routes of ${product.name}`}>
        {product.workflows.map((w) => (
          <li key={w.id} aria-label={w.name}>
            <div className="portal-workflow__head">
              <PortalLink href={portalHref(`/portal/workflows/${encodeURIComponent(w.id)}`, preview)}>{w.name}</PortalLink>
              <code className="portal-route">{routeText(w)}</code>
              <LifecycleChip lifecycle={w.lifecycle} />
              {w.lifecycle.sunset ? <span className="small">sunset {new Date(w.lifecycle.sunset).toUTCString()}</span> : null}
            </div>
            {w.description ? <p className="small muted">{w.description}</p> : null}
            <dl className="portal-facts">
              <Access workflow={w} />
            </dl>
          </li>
        ))}
      </ul>
      <h3>Plans</h3>
      {product.plans.length === 0 ? (
        <p className="small muted">No plan sets a limit on this product.</p>
      ) : (
        <table className="portal-table">
          <caption className="sr-only">Plan limits of {product.name}</caption>
          <thead>
            <tr>
              <th scope="col">Plan</th>
              <th scope="col">Requests</th>
              <th scope="col">LLM tokens</th>
            </tr>
          </thead>
          <tbody>
            {product.plans.map((plan) => (
              <tr key={plan.id}>
                <th scope="row">{plan.name}</th>
                <td>{`${plan.limit.limit} per ${plan.limit.window}`}</td>
                <td>{plan.limit.tokens ? `${plan.limit.tokens.limit} per ${plan.limit.tokens.window}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <PortalLink href={portalHref(`/portal/changelog/${encodeURIComponent(product.id)}`, preview)}>Changelog of {product.name}</PortalLink>
      </p>
    </section>
  );
}

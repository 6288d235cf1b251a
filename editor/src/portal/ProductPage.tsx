import type { PortalProduct } from '../../../shared/portal/index.ts';
import { useResource } from '../hooks/useResource.ts';
import { ProductCard } from './CatalogPage.tsx';
import { loadState } from './parts.tsx';
import { portalGet } from './portal-client.ts';
import { usePortalReader } from './portal-context.ts';

/** /portal/products/:id: one product. */
export function ProductPage({ id }: { id: string }) {
  const reader = usePortalReader();
  const { resource } = useResource(() => portalGet<PortalProduct>(`/products/${encodeURIComponent(id)}`, reader), `product ${id} ${reader.token ?? ''} ${reader.preview ?? ''}`);
  return <main className="portal-main">{loadState(resource, 'product') ?? (resource.status === 'ready' ? <ProductCard product={resource.value} preview={reader.preview} heading="h1" /> : null)}</main>;
}

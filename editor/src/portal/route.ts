import { useEffect, useState } from 'react';

/** The portal's pages, by path under /portal (the server answers every one of them with portal.html). */
export type PortalRoute =
  | { page: 'catalog' }
  | { page: 'product'; id: string }
  | { page: 'workflow'; id: string }
  | { page: 'problems' }
  | { page: 'problem'; slug: string }
  | { page: 'changelog'; product: string }
  | { page: 'partner' }
  | { page: 'unknown' };

const decode = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** The page of a path: `/portal/products/payments` -> `{ page: 'product', id: 'payments' }`. */
function routeOf(pathname: string): PortalRoute {
  const parts = pathname.replace(/^\/portal\/?/, '').split('/').filter(Boolean).map(decode);
  const [first, second] = parts;
  if (parts.length === 0) return { page: 'catalog' };
  if (parts.length === 1 && first === 'problems') return { page: 'problems' };
  if (parts.length === 1 && first === 'partner') return { page: 'partner' };
  if (parts.length === 2 && second !== undefined) {
    if (first === 'products') return { page: 'product', id: second };
    if (first === 'workflows') return { page: 'workflow', id: second };
    if (first === 'problems') return { page: 'problem', slug: second };
    if (first === 'changelog') return { page: 'changelog', product: second };
  }
  if (first === 'partner') return { page: 'partner' };
  return { page: 'unknown' };
}

/** The workflow a publisher previews (`?preview=<id>`), kept on every portal link while previewing. */
const previewOf = (search: string) => new URLSearchParams(search).get('preview') ?? undefined;

/** A portal path with the preview carried along. */
export function portalHref(path: string, preview: string | undefined): string {
  return preview === undefined ? path : `${path}?preview=${encodeURIComponent(preview)}`;
}

const NAVIGATED = 'portal:navigated';

/** Goes to a portal page without reloading. */
export function navigate(href: string): void {
  window.history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATED));
  window.scrollTo(0, 0);
}

/** The page the address bar names, following links and the back button. */
export function usePortalRoute(): { route: PortalRoute; preview: string | undefined } {
  const read = () => ({ route: routeOf(window.location.pathname), preview: previewOf(window.location.search) });
  const [state, setState] = useState(read);
  useEffect(() => {
    const update = () => setState(read());
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return state;
}

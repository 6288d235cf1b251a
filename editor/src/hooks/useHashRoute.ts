import { useEffect, useState } from 'react';

export type Route = { screen: 'list' } | { screen: 'partners' } | { screen: 'errors' } | { screen: 'workflow'; id: string };

function parse(hash: string): Route {
  if (/^#\/partners\/?$/.test(hash)) return { screen: 'partners' };
  if (/^#\/errors\/?$/.test(hash)) return { screen: 'errors' };
  const match = /^#\/workflows\/([^/?#]+)/.exec(hash);
  return match ? { screen: 'workflow', id: decodeURIComponent(match[1]!) } : { screen: 'list' };
}

/**
 * The screen in the URL's hash (`#/workflows/orders`). A hash route needs no server fallback,
 * so /editor/ is a plain static directory and links and reloads still land on the workflow.
 */
export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export const workflowHref = (id: string) => `#/workflows/${encodeURIComponent(id)}`;
export const listHref = '#/';
export const partnersHref = '#/partners';
export const errorsHref = '#/errors';

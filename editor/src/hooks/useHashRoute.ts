import { useEffect, useState } from 'react';

/** A workflow's screen: its editor on the draft, a version read-only (`version`) or its contract for people (`page: 'contract'`). */
export type Route = { screen: 'list' } | { screen: 'partners' } | { screen: 'errors' } | { screen: 'workflow'; id: string; version?: number; page?: 'contract' };

function parse(hash: string): Route {
  if (/^#\/partners\/?$/.test(hash)) return { screen: 'partners' };
  if (/^#\/errors\/?$/.test(hash)) return { screen: 'errors' };
  const match = /^#\/workflows\/([^/?#]+)(?:\/versions\/([1-9][0-9]{0,8})|\/(contract))?/.exec(hash);
  if (!match) return { screen: 'list' };
  return { screen: 'workflow', id: decodeURIComponent(match[1]!), ...(match[2] ? { version: Number(match[2]) } : {}), ...(match[3] ? { page: 'contract' as const } : {}) };
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
export const versionHref = (id: string, version: number) => `${workflowHref(id)}/versions/${version}`;
export const contractHref = (id: string) => `${workflowHref(id)}/contract`;
export const listHref = '#/';
export const partnersHref = '#/partners';
export const errorsHref = '#/errors';

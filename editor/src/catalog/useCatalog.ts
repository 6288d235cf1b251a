import { useContext, useEffect, useState } from 'react';
import type { Api } from '../api/client.ts';
import { SessionContext } from '../editor-context.ts';
import type { ErrorCatalog } from './catalog-model.ts';

/** The catalog, loaded once per session and shared by every error picker; the catalog page forgets it after a save. */
let cache: { api: Api; catalog: Promise<ErrorCatalog> } | undefined;

function load(api: Api): Promise<ErrorCatalog> {
  if (cache?.api !== api) cache = { api, catalog: api.catalog() };
  const loading = cache;
  loading.catalog.catch(() => cache === loading && (cache = undefined));
  return loading.catalog;
}

/** The next picker loads the catalog again (it was just saved). */
export function forgetCatalog(): void {
  cache = undefined;
}

/** The error catalog in use; undefined while it loads or when it cannot be read. */
export function useCatalog(): ErrorCatalog | undefined {
  const session = useContext(SessionContext);
  const [catalog, setCatalog] = useState<ErrorCatalog | undefined>();
  useEffect(() => {
    if (!session) return undefined;
    let live = true;
    load(session.api).then(
      (c) => live && setCatalog(c),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [session]);
  return catalog;
}

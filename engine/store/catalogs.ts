import { errorCatalogSchema, type ErrorCatalog } from '../../shared/schema/index.ts';
import type { Store } from './types.ts';

/** Reads stored catalogs by hash: a stored document never changes, so the last one read is kept under its hash. */
export interface StoredCatalogs {
  read(hash: string): Promise<ErrorCatalog>;
}

export function createStoredCatalogs(store: Pick<Store, 'document'>): StoredCatalogs {
  let last: { hash: string; catalog: ErrorCatalog } | undefined;
  return {
    async read(hash) {
      if (last?.hash !== hash) last = { hash, catalog: errorCatalogSchema.parse(await store.document(hash)) };
      return last.catalog;
    },
  };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kindErrorIds } from '../../shared/nodes/index.ts';
import { errorCatalogSchema, GATEWAY_ERRORS, type ErrorCatalog } from '../../shared/schema/index.ts';
import type { StoredCatalogs } from '../store/catalogs.ts';
import type { Store } from '../store/types.ts';
import { EXAMPLES } from './data-dir.ts';

/** The error catalog of a file; throws naming the file and what is wrong with it. */
export function readCatalogFile(file: string): ErrorCatalog {
  const parsed = errorCatalogSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a valid error catalog: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The data directory's error catalog, else the examples' one; undefined when neither reads. */
export function catalogOfDataDir(dataDir: string): ErrorCatalog | undefined {
  for (const file of [join(dataDir, 'errors.json'), join(EXAMPLES, 'errors.json')]) {
    try {
      return readCatalogFile(file);
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/**
 * Gives the store the catalog the gateway answers with: a new store starts with the data
 * directory's catalog; a stored catalog that lacks an error the gateway itself answers
 * (GATEWAY_ERRORS) or a node kind declares (a kind added by an upgrade, such as cors) gets it from
 * the data directory's catalog, else the examples', as one audited catalog change. Without it
 * every workflow with an identity node would stop validating against a catalog stored before that
 * error existed, and a new kind could not be used until someone wrote its errors by hand.
 */
export async function ensureStoredCatalog(options: { store: Store; catalogs: StoredCatalogs; dataDirCatalog: ErrorCatalog; put: (catalog: ErrorCatalog) => Promise<unknown> }): Promise<void> {
  const hash = (await options.store.state()).catalog;
  if (hash === undefined) {
    await options.put(options.dataDirCatalog);
    return;
  }
  const stored = await options.catalogs.read(hash);
  const missing = [...new Set([...GATEWAY_ERRORS, ...kindErrorIds()])].filter((id) => !Object.hasOwn(stored.errors, id));
  if (missing.length === 0) return;
  const sources = [options.dataDirCatalog, readCatalogFile(join(EXAMPLES, 'errors.json'))];
  const added: ErrorCatalog['errors'] = {};
  for (const id of missing) {
    const source = sources.find((s) => Object.hasOwn(s.errors, id));
    if (source) added[id] = source.errors[id]!;
  }
  if (Object.keys(added).length === 0) return;
  await options.put({ ...stored, errors: { ...stored.errors, ...added } });
}

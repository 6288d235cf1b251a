/**
 * Problem type URIs that resolve (RFC 9457 §3.1.1: a type URI should be dereferenceable). The
 * shipped catalog names its types under a placeholder host, BUILTIN_PROBLEM_BASE; with
 * SLUICE_PROBLEM_BASE those types are served under that base instead, such as the portal's
 * `https://api.example.com/portal/problems/`, whose pages answer people with HTML and machines with
 * JSON. The catalog is rebased where it is read (the file at start, the stored one by hash), so
 * answers, contracts, previews and the portal agree, and no request pays for it. Types an operator
 * wrote under another base are theirs and stay as written.
 */
import { BUILTIN_PROBLEM_BASE, type ErrorCatalog } from '../../shared/schema/index.ts';
import type { StoredCatalogs } from '../store/catalogs.ts';

/** The catalog with its built-in types under `base`; the same catalog when there is no base. */
export function rebaseCatalog(catalog: ErrorCatalog, base: string | undefined): ErrorCatalog {
  if (base === undefined || !Object.values(catalog.errors).some((e) => e.type.startsWith(BUILTIN_PROBLEM_BASE))) return catalog;
  const errors: ErrorCatalog['errors'] = {};
  for (const [id, entry] of Object.entries(catalog.errors)) errors[id] = entry.type.startsWith(BUILTIN_PROBLEM_BASE) ? { ...entry, type: `${base}${entry.type.slice(BUILTIN_PROBLEM_BASE.length)}` } : entry;
  return { ...catalog, errors };
}

/** Stored catalogs read rebased (each stored catalog is rebased once, when read by its hash). */
export function rebasedCatalogs(catalogs: StoredCatalogs, base: string | undefined): StoredCatalogs {
  if (base === undefined) return catalogs;
  let last: { stored: ErrorCatalog; rebased: ErrorCatalog } | undefined;
  return {
    async read(hash) {
      const stored = await catalogs.read(hash);
      if (last?.stored !== stored) last = { stored, rebased: rebaseCatalog(stored, base) };
      return last.rebased;
    },
  };
}

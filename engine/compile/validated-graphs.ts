import type { ValidGraph } from '../../shared/compile/index.ts';

/** Nodes kept at most, over every graph kept: a graph never taken (a publish refused after its check, a version not activated) goes, oldest first. */
const MAX_KEPT_NODES = 100_000;

/**
 * Graphs a publish's check validated, kept until the registry compiles that version: a document
 * is validated once to be published and served, not once by the check and again by the registry
 * (a first start from 10,000 workflow files validated each twice). In memory, for this process's
 * registry only, keyed by the document's hash and the catalog's (the limits and the code are the
 * process's own). Graphs with subflows are not kept: their fragments' versions are part of them.
 */
export interface ValidatedGraphs {
  keep(documentHash: string, catalog: string | undefined, graph: ValidGraph): void;
  /** The graph kept for this document and catalog, once. */
  take(documentHash: string, catalog: string | undefined): ValidGraph | undefined;
}

export function createValidatedGraphs(maxNodes = MAX_KEPT_NODES): ValidatedGraphs {
  const kept = new Map<string, ValidGraph>();
  let nodes = 0;
  const keyOf = (documentHash: string, catalog: string | undefined) => `${documentHash} ${catalog ?? ''}`;
  return {
    keep(documentHash, catalog, graph) {
      if (graph.fragments.length > 0 || graph.nodes.size > maxNodes) return;
      const key = keyOf(documentHash, catalog);
      const before = kept.get(key);
      if (before !== undefined) {
        kept.delete(key);
        nodes -= before.nodes.size;
      }
      kept.set(key, graph);
      nodes += graph.nodes.size;
      for (const [oldest, graph] of kept) {
        if (nodes <= maxNodes) break;
        kept.delete(oldest);
        nodes -= graph.nodes.size;
      }
    },
    take(documentHash, catalog) {
      const key = keyOf(documentHash, catalog);
      const graph = kept.get(key);
      if (graph === undefined) return undefined;
      kept.delete(key);
      nodes -= graph.nodes.size;
      return graph;
    },
  };
}

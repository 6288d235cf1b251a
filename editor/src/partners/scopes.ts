import type { Api } from '../api/client.ts';

/** At most this many workflows are read for scope suggestions: a suggestion is a help, not a census. */
const MAX_READ = 50;

type ScopeNode = { kind?: unknown; config?: { all?: unknown; any?: unknown } };

/** The scopes a document's scope-check nodes ask for (all of / any of). */
function scopesOf(document: unknown): string[] {
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  const found: string[] = [];
  for (const node of Array.isArray(nodes) ? (nodes as ScopeNode[]) : [])
    if (node.kind === 'scope-check')
      for (const list of [node.config?.all, node.config?.any]) if (Array.isArray(list)) for (const s of list) if (typeof s === 'string' && s !== '') found.push(s);
  return found;
}

/**
 * The scopes the workflows' scope-check nodes require, sorted and without repeats: what a new key
 * most likely needs. Read from the drafts (what is being built is what the key is for).
 */
export async function workflowScopes(api: Api): Promise<string[]> {
  const { workflows } = await api.workflows();
  const documents = await Promise.all(workflows.slice(0, MAX_READ).map((w) => api.workflow(w.id).then((v) => v.draft?.document, () => undefined)));
  return [...new Set(documents.flatMap(scopesOf))].sort();
}

/** Node ids are url-safe and readable: the kind's name, numbered when taken (`proxy`, `proxy-2`). */
export function freshId(base: string, taken: ReadonlySet<string>): string {
  const stem = base.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 56) || 'node';
  if (!taken.has(stem)) return stem;
  const bare = stem.replace(/-\d+$/, '');
  for (let n = 2; ; n++) {
    const id = `${bare}-${n}`;
    if (!taken.has(id)) return id;
  }
}

/** The same check as the document schema's idSchema (shared/schema/workflow.ts), for the id field. */
export const NODE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

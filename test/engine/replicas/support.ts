import { hashApiKey } from '../../../engine/kinds/api-key.ts';
import { ADMIN_TOKENS, adminCall } from '../admin/support.ts';

export { ADMIN_TOKENS };

/** A workflow answering its stamp at a path. */
export const stamped = (id: string, path: string, stamp: string) => ({
  id,
  name: `Stamp ${id}`,
  route: { methods: ['GET'], path },
  nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { stamp } } }],
  edges: [],
});

export const ACME_KEY = 'acme-replica-key';

/** Partner acme (by API key) limited to `limit` per window, with the given onStoreDown choice. */
export const limited = (id: string, path: string, limit: number, onStoreDown: 'allow' | 'deny' | 'local', window = '1m') => ({
  id,
  name: `Limited ${id}`,
  route: { methods: ['GET'], path },
  nodes: [
    { id: 'key', kind: 'api-key', config: { keys: [{ hash: hashApiKey(ACME_KEY), partner: 'acme' }] } },
    { id: 'limit', kind: 'rate-limit', config: { limit, window, key: 'partner', onStoreDown } },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } },
  ],
  edges: [
    { from: 'key', port: 'ok', to: 'limit' },
    { from: 'limit', port: 'ok', to: 'answer' },
  ],
});

/** Creates (or updates) a workflow's draft and publishes it through one replica's admin API; the version published. */
export async function publish(baseUrl: string, document: { id: string }): Promise<number> {
  const existing = await adminCall(baseUrl, 'publisher', 'GET', `/workflows/${document.id}`);
  if (existing.status === 404) {
    const created = await adminCall(baseUrl, 'editor', 'POST', '/workflows', { document });
    if (created.status !== 201) throw new Error(`create ${document.id}: ${created.status} ${JSON.stringify(created.body)}`);
  } else {
    const saved = await adminCall(baseUrl, 'editor', 'PUT', `/workflows/${document.id}/draft`, { document, baseRevision: existing.body.draft?.revision ?? 0 });
    if (saved.status !== 200) throw new Error(`save ${document.id}: ${saved.status} ${JSON.stringify(saved.body)}`);
  }
  const published = await adminCall(baseUrl, 'publisher', 'POST', `/workflows/${document.id}/publish`);
  if (published.status !== 200) throw new Error(`publish ${document.id}: ${published.status} ${JSON.stringify(published.body)}`);
  return published.body.version as number;
}


export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The stamp a path answers, or its status when it is no stamp. */
export async function stampOf(baseUrl: string, path: string): Promise<string> {
  const res = await fetch(`${baseUrl}${path}`);
  if (res.status !== 200) {
    await res.arrayBuffer();
    return String(res.status);
  }
  return ((await res.json()) as { stamp: string }).stamp;
}

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** Waits until the current minute has at least `marginMs` left, so a one-minute window is not split by the test. */
export async function awayFromMinuteBoundary(marginMs = 10_000) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

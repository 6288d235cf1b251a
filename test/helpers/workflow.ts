import { expect } from 'vitest';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.ts';

/** A workflow node as written in a document. */
export interface NodeDoc {
  id: string;
  kind: string;
  config?: Record<string, unknown>;
}

/** A workflow document with the fields the tests vary; the rest is filled in. */
export function workflow(id: string, route: { path: string; methods?: string[] }, nodes: NodeDoc[], edges: Array<[from: string, port: string, to: string]> = [], start?: string) {
  return {
    id,
    name: id,
    route: { methods: route.methods ?? ['GET'], path: route.path },
    ...(start === undefined ? {} : { start }),
    nodes: nodes.map((n) => ({ config: {}, ...n })),
    edges: edges.map(([from, port, to]) => ({ from, port, to })),
  };
}

/** A respond node answering 200 {"port": port}: wire a port to it to see that the port was taken. */
export function portNode(id: string, port = id): NodeDoc {
  return { id, kind: 'respond', config: { status: 200, body: { port } } };
}

/** Starts a test gateway and fails loudly, with the refusal, when a workflow was not activated. */
export async function startGateway(workflows: Array<{ id: string }>, options: Omit<TestGatewayOptions, 'workflows'> = {}): Promise<TestGateway> {
  const gw = await startTestGateway({ ...options, workflows });
  const missing = workflows.filter((w) => !gw.sluice.registry.active.has(w.id)).map((w) => w.id);
  if (missing.length > 0) {
    const refusals = gw.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('workflow refused')).map((l) => l.msg);
    await gw.close();
    throw new Error(`workflows not activated: ${missing.join(', ')}\n${refusals.join('\n')}`);
  }
  return gw;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  traceId: string;
}

/**
 * Asserts a catalog problem: status, application/problem+json, `type` ending with the catalog
 * id's slug, a 32-hex traceId and a filled detail (containing `detail` when given).
 */
export async function expectProblem(res: Response, status: number, slug: string, detail?: string | RegExp): Promise<ProblemBody> {
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = JSON.parse(text) as ProblemBody;
  expect(body.type).toMatch(new RegExp(`/${slug}$`));
  expect(body.status).toBe(status);
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(body.detail.length).toBeGreaterThan(0);
  expect(body.detail).not.toMatch(/\{\w+\}/); // every placeholder filled
  if (typeof detail === 'string') expect(body.detail).toContain(detail);
  else if (detail) expect(body.detail).toMatch(detail);
  return body;
}

/** Asserts the answer of a `portNode`: 200 {"port": port}. */
export async function expectPort(res: Response, port: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBe(200);
  expect(JSON.parse(text)).toMatchObject({ port });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Registers products and partners in a test gateway's store (as the admin API would) and waits
 * until the gateway serves that revision: `products` maps a product id to its workflows,
 * `partners` a partner id to its products, client ids and status.
 */
export async function registerPartners(
  gw: TestGateway,
  products: Record<string, string[]>,
  partners: Record<string, { products: string[]; clientIds?: string[]; suspended?: boolean }>,
): Promise<void> {
  const { createPartners } = await import('../../engine/admin/commands/partners.ts');
  const changes = createPartners({ store: gw.sluice.store });
  const actor = { name: 'test', role: 'admin' };
  for (const [id, workflows] of Object.entries(products)) await changes.putProduct(actor, id, { name: id, description: '', workflows });
  for (const [id, p] of Object.entries(partners)) {
    await changes.createPartner(actor, id, { name: id, contacts: [], products: p.products, clientIds: p.clientIds ?? [], limits: {} });
    if (p.suspended) await changes.suspend(actor, id);
  }
  await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateWorkflow } from '../../../shared/compile/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, stamped, startAdminGateway, type Admin } from './support.ts';

/*
 * Issue 18, defect 7: an imported document becomes a workflow only with a valid envelope (id,
 * name, route, known keys), and validation says the envelope's problems and the nodes' at once.
 */

const broken = () => ({ ...stamped('imp-bad', 'no-slash', 'x'), nodes: [{ id: 'odd', kind: 'teleport', config: {} }], colour: 'red' });

describe('importing a document as a new workflow', () => {
  let gw: TestGateway;
  let admin: Admin;

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(() => gw.close());

  it('refuses a bad route and an unknown top-level key, naming both, and stores nothing', async () => {
    const answer = await admin('editor', 'POST', '/workflows', { document: broken() });
    const body = expectProblem(answer, 422, 'validation-failed');
    const fields = (body.problems as Array<{ field: string }>).map((p) => p.field);
    expect(fields).toContain('route.path');
    expect(fields.some((f) => f.includes('colour') || f === '(document)')).toBe(true);
    expect((await admin('viewer', 'GET', '/workflows/imp-bad')).status).toBe(404);
  });

  it('still creates a half-drawn draft whose envelope is valid', async () => {
    const answer = await admin('editor', 'POST', '/workflows', { document: { ...stamped('imp-half', '/imp/half', 'x'), nodes: [{ id: 'odd', kind: 'teleport', config: {} }] } });
    expect(answer.status).toBe(201);
  });
});

describe('validation says every problem at once', () => {
  it('reports the envelope problems and the node problems together', () => {
    const result = validateWorkflow(broken());
    expect(result.ok).toBe(false);
    const codes = result.problems.map((p) => `${p.code}:${p.node ?? ''}:${p.field ?? ''}`);
    expect(codes).toContain('invalid_document::route.path');
    expect(codes).toContain('unknown_kind:odd:kind');
  });
});

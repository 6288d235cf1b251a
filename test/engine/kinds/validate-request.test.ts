import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { adminOf, startAdminGateway, type Admin } from '../admin/support.ts';
import { describeKind } from './describe-kind.ts';

describeKind('validate-request', {
  minimal: { config: { body: { type: 'object' } }, parsed: { body: { type: 'object' }, maxErrors: 20 } },
  accepts: [
    ['a query schema only', { query: { type: 'object' } }],
    ['every part', { body: {}, query: {}, params: {}, headers: {}, maxErrors: 5 }],
  ],
  refuses: [
    ['no schema', {}, ['body']],
    ['a schema that is not an object', { body: 'string' }, ['body']],
    ['a schema over 32 KB', { body: { description: 'x'.repeat(40_000) } }, ['body']],
    ['maxErrors 0', { body: {}, maxErrors: 0 }, ['maxErrors']],
  ],
  readsBody: [
    [{ body: {} }, true],
    [{ query: {} }, false],
  ],
});

const ORDER = {
  type: 'object',
  properties: {
    sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{4}$' },
    quantity: { type: 'integer', minimum: 1, maximum: 100 },
    email: { type: 'string', format: 'email' },
  },
  required: ['sku', 'quantity'],
  additionalProperties: false,
};
const validate = (config: Record<string, unknown>): NodeDoc => ({ id: 'check', kind: 'validate-request', config });
const post = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('validate-request', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway([
      workflow('orders-create', { path: '/v/orders', methods: ['POST'] }, [validate({ body: ORDER, headers: { type: 'object', required: ['x-request-id'] } }), portNode('ok')], [['check', 'ok', 'ok']]),
      workflow('orders-list', { path: '/v/orders', methods: ['GET'] }, [validate({ query: { type: 'object', properties: { limit: { type: 'integer', maximum: 50 }, tag: { type: 'array', items: { enum: ['a', 'b'] } } } } }), portNode('ok')], [['check', 'ok', 'ok']]),
      workflow('order-one', { path: '/v/orders/:id' }, [validate({ params: { type: 'object', properties: { id: { type: 'string', pattern: '^ord-[0-9]+$' } } } }), portNode('ok')], [['check', 'ok', 'ok']]),
      workflow('wired', { path: '/v/wired', methods: ['POST'] }, [validate({ body: ORDER, maxErrors: 2 }), portNode('ok'), portNode('invalid')], [['check', 'ok', 'ok'], ['check', 'invalid', 'invalid']]),
      workflow('capped', { path: '/v/capped', methods: ['POST'] }, [validate({ body: ORDER, maxErrors: 2 }), portNode('ok')], [['check', 'ok', 'ok']]),
      workflow('redos', { path: '/v/redos', methods: ['POST'] }, [validate({ body: { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } } }), portNode('ok')], [['check', 'ok', 'ok']]),
    ]);
  });
  afterAll(() => gw?.close());

  it('takes ok for a request that matches every schema', async () => {
    await expectPort(await gw.fetch('/v/orders', post({ sku: 'ABC-1234', quantity: 3, email: 'buyer@example.com' }, { 'x-request-id': 'r1' })), 'ok');
    await expectPort(await gw.fetch('/v/orders?limit=20&tag=a&tag=b'), 'ok');
    await expectPort(await gw.fetch('/v/orders/ord-42'), 'ok');
  });

  it('refuses 422 listing every failing field, of every part, as JSON pointers', async () => {
    const res = await gw.fetch('/v/orders', post({ sku: 'abc', quantity: 0, email: 'not-an-email', colour: 'red' }));
    const body = (await expectProblem(res, 422, 'request-invalid', '/body/colour is not allowed')) as unknown as { errors: Array<{ pointer: string; detail: string }>; detail: string };
    expect([...body.errors].sort((a, b) => a.pointer.localeCompare(b.pointer))).toEqual([
      { pointer: '/body/colour', detail: 'is not allowed' },
      { pointer: '/body/email', detail: 'must match format "email"' },
      { pointer: '/body/quantity', detail: 'must be >= 1' },
      { pointer: '/body/sku', detail: 'must match pattern "^[A-Z]{3}-[0-9]{4}$"' },
      { pointer: '/headers/x-request-id', detail: 'is required' },
    ]);
    expect(body.detail).toContain('(and 4 more)');
  });

  it('refuses a body that is missing or not JSON', async () => {
    await expectProblem(await gw.fetch('/v/orders', { method: 'POST', headers: { 'x-request-id': 'r' } }), 422, 'request-invalid', '/body must be object');
    await expectProblem(await gw.fetch('/v/orders', { method: 'POST', headers: { 'content-type': 'text/plain', 'x-request-id': 'r' }, body: 'sku=ABC-1234' }), 422, 'request-invalid', '/body must be object');
  });

  it('reads query and path parameters from their text, and refuses what does not fit', async () => {
    const query = (await (await gw.fetch('/v/orders?limit=500&tag=c')).json()) as { errors: unknown[] };
    expect(query.errors).toEqual([
      { pointer: '/query/limit', detail: 'must be <= 50' },
      { pointer: '/query/tag/0', detail: 'must be equal to one of the allowed values' },
    ]);
    await expectProblem(await gw.fetch('/v/orders?limit=many'), 422, 'request-invalid', '/query/limit must be integer');
    await expectProblem(await gw.fetch('/v/orders/42'), 422, 'request-invalid', '/params/id must match pattern');
  });

  it('takes the invalid port when it is wired', async () => {
    await expectPort(await gw.fetch('/v/wired', post({ quantity: 'many' })), 'invalid');
  });

  it('lists at most maxErrors, counting the rest in the detail; one error reads alone', async () => {
    const capped = (await expectProblem(await gw.fetch('/v/capped', post({ sku: 'abc', quantity: 0, email: 'not-an-email', colour: 'red' })), 422, 'request-invalid')) as unknown as { errors: unknown[]; detail: string };
    expect(capped.errors).toHaveLength(2);
    expect(capped.detail).toMatch(/ \(and 3 more\)\.$/); // the catalog's sentence around the reason
    const one = (await expectProblem(await gw.fetch('/v/orders/42'), 422, 'request-invalid')) as unknown as { errors: unknown[]; detail: string };
    expect(one.errors).toEqual([{ pointer: '/params/id', detail: 'must match pattern "^ord-[0-9]+$"' }]);
    expect(one.detail).toBe('The request does not match what this API accepts: /params/id must match pattern "^ord-[0-9]+$".');
  });

  it('reads a JSON body as it is: a number sent as text is refused there (query and path text is read as numbers)', async () => {
    await expectProblem(await gw.fetch('/v/orders', post({ sku: 'ABC-1234', quantity: '3' }, { 'x-request-id': 'r1' })), 422, 'request-invalid', '/body/quantity must be integer');
    await expectPort(await gw.fetch('/v/orders?limit=20'), 'ok');
  });

  it('runs patterns in linear time: a backtracking pattern on a 50,000-character near-match is answered (a backtracking engine would never finish)', async () => {
    const res = await gw.fetch('/v/redos', post({ name: `${'a'.repeat(50_000)}!` }));
    await expectProblem(res, 422, 'request-invalid', '/body/name must match pattern');
  });
});

describe('validate-request at publish', () => {
  let gw: TestGateway;
  let admin: Admin;
  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(() => gw?.close());

  const publish = async (id: string, config: Record<string, unknown>) => {
    const created = await admin('editor', 'POST', '/workflows', { document: workflow(id, { path: `/p/${id}`, methods: ['POST'] }, [validate(config), portNode('ok')], [['check', 'ok', 'ok']]) });
    expect(created.status).toBe(201);
    return admin('publisher', 'POST', `/workflows/${id}/publish`);
  };

  it.each([
    ['an unknown keyword', { body: { type: 'object', requird: ['a'] } }, 'body', /unknown keyword: "requird"/],
    ['a pattern RE2 cannot run (lookahead)', { body: { type: 'string', pattern: '^(?=a)a' } }, 'body', /cannot run on the linear-time engine/],
    ['a reference to another document (never fetched)', { body: { $ref: 'https://schemas.example/order.json' } }, 'body', /can't resolve reference/],
    ['uniqueItems on an unbounded array', { query: { type: 'object', properties: { ids: { type: 'array', uniqueItems: true } } } }, 'query', /uniqueItems compares every pair/],
  ])('refuses %s, naming the node and the schema', async (_name, config, field, message) => {
    const id = `bad-${field}-${Math.random().toString(36).slice(2, 8)}`;
    const res = await publish(id, config);
    expect(res.status).toBe(422);
    expect(res.body.problems).toEqual([expect.objectContaining({ node: 'check', field: `config.${field}`, message: expect.stringMatching(message) })]);
  });

  it('publishes a good schema, served within the publish', async () => {
    expect((await publish('good', { body: ORDER })).status).toBe(200);
    await expectProblem(await gw.fetch('/p/good', post({ sku: 'ABC-1234' })), 422, 'request-invalid', '/body/quantity is required');
  });

  it('carries the request schema into the contract\'s OpenAPI export, beside the 422 it answers', async () => {
    const created = await admin('editor', 'POST', '/workflows', {
      document: workflow('shaped', { path: '/p/shaped/:id', methods: ['POST'] }, [validate({ body: ORDER, params: { type: 'object', properties: { id: { type: 'string', pattern: '^ord-[0-9]+$' } } }, query: { type: 'object', properties: { dryRun: { type: 'boolean' } }, required: ['dryRun'] } }), portNode('ok')], [['check', 'ok', 'ok']]),
    });
    expect(created.status).toBe(201);
    const openapi = await admin('viewer', 'GET', '/workflows/shaped/contract?format=openapi&version=draft');
    const operation = openapi.body.paths['/p/shaped/{id}'].post;
    expect(operation.requestBody).toEqual({ required: true, content: { 'application/json': { schema: ORDER } } });
    expect(operation.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^ord-[0-9]+$' } },
      { name: 'dryRun', in: 'query', required: true, schema: { type: 'boolean' } },
    ]);
    expect(operation.responses['422']).toEqual({ $ref: '#/components/responses/Status422' });
  });
});

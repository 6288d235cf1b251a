import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, startAdminGateway, type Admin } from '../admin/support.ts';
import { runtimes } from '../../../engine/kinds/index.ts';
import { PrepareError } from '../../../engine/kinds/prepare-error.ts';
import { describeKind } from './describe-kind.ts';

describeKind('subflow', {
  minimal: { config: { fragment: 'auth', exits: ['ok'] }, parsed: { fragment: 'auth', exits: ['ok'] } },
  accepts: [
    ['a pinned version', { fragment: 'auth', version: 3, exits: ['ok'] }],
    ['several exits', { fragment: 'auth', exits: ['ok', 'anonymous', 'blocked'] }],
  ],
  refuses: [
    ['no fragment', { exits: ['ok'] }, ['fragment']],
    ['no exits', { fragment: 'auth', exits: [] }, ['exits']],
    ['an exit twice', { fragment: 'auth', exits: ['ok', 'ok'] }, ['exits']],
    ['an exit that is no port name', { fragment: 'auth', exits: ['Not OK'] }, ['exits.0']],
    ['version 0', { fragment: 'auth', version: 0, exits: ['ok'] }, ['version']],
  ],
  readsBody: [[{ fragment: 'auth', exits: ['ok'] }, false]],
});

describe('a subflow node left in a compiled document', () => {
  it('is refused when prepared, naming its fragment field: only validation with the published fragments inlines it', () => {
    let thrown: unknown;
    try {
      void runtimes.subflow({ fragment: 'auth', exits: ['ok'] }, undefined as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PrepareError);
    const error = thrown as PrepareError;
    expect([error.name, error.field]).toEqual(['PrepareError', 'config.fragment']);
    expect(error.message).toBe('fragment "auth" was not inlined: a subflow runs only when its workflow is validated with the published fragments');
  });
});

/*
 * Over real HTTP: a fragment with two exits, each taken by a request, and the subflow node's
 * ports wired to different answers. The fragment is published through the admin API (fragments
 * live in the store), the workflow after it.
 */
describe('subflow', () => {
  let gw: TestGateway;
  let admin: Admin;
  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
    const fragment = {
      id: 'sorter',
      name: 'Sorter',
      exits: [{ name: 'member' }, { name: 'guest' }],
      nodes: [{ id: 'has-key', kind: 'condition', config: { when: '$exists(request.headers."x-member")' } }],
      edges: [
        { from: 'has-key', port: 'true', to: 'member' },
        { from: 'has-key', port: 'false', to: 'guest' },
      ],
    };
    expect((await admin('editor', 'POST', '/fragments', { document: fragment })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/fragments/sorter/publish')).status).toBe(200);
    const document = {
      id: 'sorted',
      name: 'Sorted',
      route: { methods: ['GET'], path: '/flow/subflow' },
      nodes: [
        { id: 'sort', kind: 'subflow', config: { fragment: 'sorter', exits: ['member', 'guest'] } },
        { id: 'members', kind: 'respond', config: { body: { port: 'member' } } },
        { id: 'guests', kind: 'respond', config: { body: { port: 'guest' } } },
      ],
      edges: [
        { from: 'sort', port: 'member', to: 'members' },
        { from: 'sort', port: 'guest', to: 'guests' },
      ],
    };
    expect((await admin('editor', 'POST', '/workflows', { document })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/sorted/publish')).status).toBe(200);
  });
  afterAll(() => gw?.close());

  it.each<{ headers: Record<string, string>; port: string }>([
    { headers: { 'x-member': '1' }, port: 'member' },
    { headers: {}, port: 'guest' },
  ])('a request leaving the fragment by $port takes the subflow node\'s port $port', async ({ headers, port }) => {
    const res = await fetch(`${gw.url}/flow/subflow`, { headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ port });
  });

  it('logs the path through the inlined nodes, each named under its subflow node', async () => {
    await (await fetch(`${gw.url}/flow/subflow`)).arrayBuffer();
    const line = gw.logs.findLast((l) => l.workflow === 'sorted' && Array.isArray(l.path));
    expect(line?.path).toEqual(['sort/has-key', 'guests']);
  });
});

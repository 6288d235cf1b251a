import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fragmentToFlow, toDocument, toFlow, toFragment, type DraftDocument } from '../../editor/src/graph/convert.ts';
import { REPO } from '../helpers/gateway.ts';

const examples = readdirSync(join(REPO, 'examples', 'workflows'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(join(REPO, 'examples', 'workflows', f), 'utf8')) as DraftDocument] as const);

/** A document using every field the format has, including a switch's dynamic ports and odd positions. */
const everything: DraftDocument = {
  $schema: '../schema.json',
  id: 'everything',
  name: 'Every field',
  description: 'All of it',
  route: { methods: ['GET', 'POST'], path: '/api/:id/*' },
  start: 'key',
  nodes: [
    { id: 'key', kind: 'api-key', label: 'Partner key', config: { keys: [{ hash: `sha256:${'a'.repeat(64)}`, partner: 'acme', scopes: ['x'] }] } },
    { id: 'route', kind: 'switch', config: { cases: [{ port: 'eu', when: 'partner = "eu"' }, { port: 'us', when: 'true' }] } },
    { id: 'eu', kind: 'respond', config: { status: 200, body: { region: 'eu', nested: [1, { a: null }] } } },
    { id: 'us', kind: 'error', config: { error: 'forbidden', params: { reason: 'no' } } },
    { id: 'other', kind: 'respond', config: {} },
  ],
  edges: [
    { from: 'key', port: 'ok', to: 'route' },
    { from: 'route', port: 'eu', to: 'eu' },
    { from: 'route', port: 'us', to: 'us' },
    { from: 'route', port: 'default', to: 'other' },
  ],
  layout: { key: { x: -10.5, y: 3 }, route: { x: 250, y: 0 }, eu: { x: 500, y: -120 }, us: { x: 500, y: 0 }, other: { x: 500, y: 120 } },
  tests: [{ name: 'eu', request: { method: 'GET', path: '/api/1/x', headers: { 'x-api-key': 'k' } }, expect: { status: 200 } }],
};

describe('document <-> React Flow conversion (editor/src/graph/convert.ts)', () => {
  it.each([...examples, ['every field', everything] as const])('round-trips %s unchanged, layout included', (_name, document) => {
    const { model, unplaced } = toFlow(document);
    // A document drawn without the editor gets positions; everything else is as it was.
    const placed = document.nodes!.every((n) => document.layout?.[n.id] !== undefined);
    const expected = placed ? document : { ...document, layout: toDocument(model).layout };
    expect(unplaced).toEqual(placed ? [] : document.nodes!.map((n) => n.id));
    expect(toDocument(model)).toEqual(expected);
    // and again, through a second trip
    expect(toDocument(toFlow(toDocument(model)).model)).toEqual(expected);
  });

  it('puts positions on nodes, ports on source handles, and nothing else in node data', () => {
    const { model } = toFlow(everything);
    const route = model.nodes.find((n) => n.id === 'route')!;
    expect(route.position).toEqual({ x: 250, y: 0 });
    expect(route.type).toBe('kind');
    expect(Object.keys(route.data).sort()).toEqual(['config', 'kind']);
    expect(model.edges.map((e) => [e.source, e.sourceHandle, e.target])).toEqual(everything.edges!.map((e) => [e.from, e.port, e.to]));
  });

  it('lists nodes without a position as unplaced, and drops layout of nodes that are gone', () => {
    const { model, unplaced } = toFlow({ id: 'x', nodes: [{ id: 'a', kind: 'respond' }, { id: 'b', kind: 'respond', config: {} }], layout: { a: { x: 1, y: 2 }, ghost: { x: 0, y: 0 } } });
    expect(unplaced).toEqual(['b']);
    expect(toDocument(model).layout).toEqual({ a: { x: 1, y: 2 }, b: model.nodes[1]!.position });
    expect(toDocument(model).nodes![0]).toEqual({ id: 'a', kind: 'respond', config: {} });
  });

  it('keeps a repeated edge (which the validator reports) with a unique canvas id', () => {
    const doc: DraftDocument = { id: 'x', nodes: [{ id: 'a', kind: 'proxy', config: {} }, { id: 'b', kind: 'respond', config: {} }], edges: [{ from: 'a', port: 'ok', to: 'b' }, { from: 'a', port: 'ok', to: 'b' }], layout: { a: { x: 0, y: 0 }, b: { x: 1, y: 1 } } };
    const { model } = toFlow(doc);
    expect(new Set(model.edges.map((e) => e.id)).size).toBe(2);
    expect(toDocument(model)).toEqual(doc);
  });

  it('copies a selection as a fragment with only its inner edges, and reads it back', () => {
    const { model } = toFlow(everything);
    const fragment = toFragment(model, new Set(['route', 'eu']));
    expect(fragment.nodes.map((n) => n.id)).toEqual(['route', 'eu']);
    expect(fragment.edges).toEqual([{ from: 'route', port: 'eu', to: 'eu' }]);
    expect(fragment.layout).toEqual({ route: { x: 250, y: 0 }, eu: { x: 500, y: -120 } });
    const back = fragmentToFlow(JSON.parse(JSON.stringify(fragment)));
    expect(back.nodes.map((n) => n.data)).toEqual(model.nodes.filter((n) => n.id === 'route' || n.id === 'eu').map((n) => n.data));
  });
});

import { describe, expect, it } from 'vitest';
import { toDocument, toFlow, toFragment } from '../../editor/src/graph/convert.ts';
import { freshId } from '../../editor/src/graph/ids.ts';
import { layoutPositions } from '../../editor/src/graph/layout.ts';
import { addNode, connect, insertFragment, remove, rename, select } from '../../editor/src/graph/operations.ts';

const base = toFlow({
  id: 'w',
  start: 'a',
  nodes: [{ id: 'a', kind: 'jwt-verify', config: {} }, { id: 'b', kind: 'proxy', config: {} }],
  edges: [{ from: 'a', port: 'ok', to: 'b' }],
  layout: { a: { x: 0, y: 0 }, b: { x: 300, y: 0 } },
}).model;

describe('model operations', () => {
  it('numbers node ids per kind', () => {
    expect(freshId('proxy', new Set())).toBe('proxy');
    expect(freshId('proxy', new Set(['proxy', 'proxy-2']))).toBe('proxy-3');
    expect(freshId('call-2', new Set(['call-2']))).toBe('call-3');
  });

  it('adds a node selected alone, at a rounded position', () => {
    const { model, id } = addNode(select(base, new Set(['a'])), 'proxy', { x: 10.4, y: 20.6 });
    expect(id).toBe('proxy');
    expect(model.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['proxy']);
    expect(model.nodes.at(-1)!.position).toEqual({ x: 10, y: 21 });
  });

  it('removes a node with its edges, and forgets it as the start', () => {
    const next = remove(base, new Set(['a']), new Set());
    expect(next.edges).toEqual([]);
    expect(next.meta.start).toBeUndefined();
  });

  it('renames a node, following its edges and the start', () => {
    const doc = toDocument(rename(base, 'a', 'verify'));
    expect(doc.start).toBe('verify');
    expect(doc.edges).toEqual([{ from: 'verify', port: 'ok', to: 'b' }]);
    expect(doc.layout).toEqual({ verify: { x: 0, y: 0 }, b: { x: 300, y: 0 } });
  });

  it('pastes a fragment under fresh ids, shifted, selected, with its inner edges', () => {
    const { model, ids } = insertFragment(base, toFragment(base, new Set(['a', 'b'])), { x: 40, y: 40 });
    expect(ids).toEqual(['a-2', 'b-2']);
    expect(toDocument(model).edges).toContainEqual({ from: 'a-2', port: 'ok', to: 'b-2' });
    expect(model.nodes.find((n) => n.id === 'b-2')!.position).toEqual({ x: 340, y: 40 });
    expect(model.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(ids);
  });

  it('changes selection without touching unchanged nodes', () => {
    const once = select(base, new Set(['a']));
    expect(once.nodes[1]).toBe(base.nodes[1]);
    expect(select(once, new Set(['a']))).toBe(once);
  });

  it('connects a port', () => {
    expect(toDocument(connect(base, 'a', 'missing', 'b')).edges).toHaveLength(2);
  });

  it('lays out left to right along the edges, or top to bottom', async () => {
    const positions = await layoutPositions(base.nodes, base.edges);
    expect(positions.get('a')!.x).toBeLessThan(positions.get('b')!.x);
    const down = await layoutPositions(base.nodes, base.edges, 'TB');
    expect(down.get('a')!.y).toBeLessThan(down.get('b')!.y);
  });

  it('keeps the order of a node\'s ports: the first port\'s target above (or left of) the second\'s', async () => {
    // wired crosswise in the document's order, so only the ports' order puts eu first
    const { nodes, edges } = toFlow({
      id: 'w',
      nodes: [
        { id: 'who', kind: 'switch', config: { cases: [{ port: 'eu', when: 'true' }] } },
        { id: 'z-default', kind: 'respond', config: {} },
        { id: 'a-eu', kind: 'respond', config: {} },
      ],
      edges: [
        { from: 'who', port: 'default', to: 'z-default' },
        { from: 'who', port: 'eu', to: 'a-eu' },
      ],
    }).model;
    const across = await layoutPositions(nodes, edges, 'LR');
    expect(across.get('a-eu')!.y).toBeLessThan(across.get('z-default')!.y);
    const down = await layoutPositions(nodes, edges, 'TB');
    expect(down.get('a-eu')!.x).toBeLessThan(down.get('z-default')!.x);
  });
});

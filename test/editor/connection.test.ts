import { describe, expect, it } from 'vitest';
import { connectionProblem, effectiveStart, isValidConnection, type GraphLike } from '../../editor/src/graph/connection.ts';

const node = (id: string, kind: string) => ({ id, data: { kind } });
const terminal = (kind: string) => kind === 'respond' || kind === 'error';

// verify -> scopes -> call; deny and mock are unwired terminal nodes; extra is an unwired proxy.
const graph: GraphLike = {
  nodes: [node('verify', 'jwt-verify'), node('scopes', 'scope-check'), node('call', 'proxy'), node('deny', 'error'), node('mock', 'respond')],
  edges: [
    { source: 'verify', sourceHandle: 'ok', target: 'scopes' },
    { source: 'scopes', sourceHandle: 'ok', target: 'call' },
  ],
};

describe('isValidConnection: the one wiring rule', () => {
  it.each([
    ['a free port to a new node', 'scopes', 'denied', 'deny', undefined],
    ['a failure port to an answer', 'verify', 'missing', 'mock', undefined],
    ['a second edge from one port', 'verify', 'ok', 'call', 'wired already'],
    ['an edge back to the first node', 'call', 'ok', 'verify', 'cycle'],
    ['an edge closing a cycle past the start', 'call', 'error', 'scopes', 'cycle'],
    ['a node to itself', 'call', 'error', 'call', 'itself'],
    ['an edge from a terminal node', 'deny', 'raise', 'call', 'ends the request'],
    ['an edge without a port', 'call', null, 'deny', 'from a port'],
    ['an edge to an unknown node', 'call', 'ok', 'nowhere', 'must be nodes'],
  ])('%s', (_name, source, port, target, reason) => {
    const problem = connectionProblem({ source, sourceHandle: port, target }, graph, terminal);
    if (reason === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(reason);
    expect(isValidConnection({ source, sourceHandle: port, target }, graph, terminal)).toBe(reason === undefined);
  });

  it('protects the explicit start even while other roots exist', () => {
    const g = { ...graph, nodes: [...graph.nodes, node('extra', 'proxy')], start: 'verify' };
    expect(connectionProblem({ source: 'extra', sourceHandle: 'ok', target: 'verify' }, g, terminal)).toContain('start node');
  });

  it('lets a new node be put before the start while the start is still open', () => {
    const g = { ...graph, nodes: [...graph.nodes, node('extra', 'api-key')] };
    expect(effectiveStart(g)).toBeUndefined(); // verify, deny, mock and extra have no incoming edge
    expect(connectionProblem({ source: 'extra', sourceHandle: 'ok', target: 'verify' }, g, terminal)).toBeUndefined();
  });

  it.each([
    ['the explicit start', { start: 'b' }, 'b'],
    ['the only node without incoming edges', {}, 'a'],
  ])('finds the start: %s', (_name, extra, expected) => {
    const g: GraphLike = { nodes: [node('a', 'proxy'), node('b', 'proxy')], edges: [{ source: 'a', sourceHandle: 'ok', target: 'b' }], ...extra };
    expect(effectiveStart(g)).toBe(expected);
  });
});

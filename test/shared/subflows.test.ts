import { describe, expect, it } from 'vitest';
import { validateFragment, validateWorkflow } from '../../shared/compile/index.ts';
import { DEFAULT_DOCUMENT_LIMITS, fragmentDocumentSchema, type FragmentDocument, type FragmentResolver } from '../../shared/schema/index.ts';

/*
 * Inlining subflow nodes (shared/compile/subflows.ts) through validation: the graph served is
 * flat, wired where the subflow node's ports go, and every refusal names the node and field.
 */

const auth = fragmentDocumentSchema.parse({
  id: 'auth',
  name: 'Auth',
  exits: [{ name: 'ok' }, { name: 'anonymous' }],
  nodes: [
    { id: 'has-key', kind: 'condition', config: { when: '$exists(request.headers."x-api-key")' } },
    { id: 'key', kind: 'api-key', config: {} },
  ],
  edges: [
    { from: 'has-key', port: 'true', to: 'key' },
    { from: 'has-key', port: 'false', to: 'anonymous' },
    { from: 'key', port: 'ok', to: 'ok' },
  ],
});

const resolverOf = (fragments: Record<string, FragmentDocument[]>): FragmentResolver => (id, version) => {
  const versions = fragments[id];
  if (!versions) return undefined;
  const n = version ?? versions.length;
  const document = versions[n - 1];
  return document && { version: n, document };
};

const workflow = (config: Record<string, unknown>, edges = [
  { from: 'gate', port: 'ok', to: 'answer' },
  { from: 'gate', port: 'anonymous', to: 'public' },
]) => ({
  id: 'orders',
  name: 'Orders',
  route: { methods: ['GET'], path: '/orders' },
  nodes: [
    { id: 'gate', kind: 'subflow', config: { fragment: 'auth', exits: ['ok', 'anonymous'], ...config } },
    { id: 'answer', kind: 'respond', config: { body: 'member' } },
    { id: 'public', kind: 'respond', config: { body: 'public' } },
  ],
  edges,
});

describe('inlining subflows', () => {
  it('replaces the subflow node by the fragment\'s nodes, wired to where its ports go', () => {
    const result = validateWorkflow(workflow({}), { fragments: resolverOf({ auth: [auth] }) });
    expect(result.problems).toEqual([]);
    if (!result.ok) return;
    expect([...result.graph.nodes.keys()]).toEqual(['gate/has-key', 'gate/key', 'answer', 'public']);
    expect(result.graph.start).toBe('gate/has-key');
    expect(Object.fromEntries(result.graph.nodes.get('gate/has-key')!.next)).toEqual({ true: 'gate/key', false: 'public' });
    expect(Object.fromEntries(result.graph.nodes.get('gate/key')!.next)).toEqual({ ok: 'answer' });
    expect(result.graph.fragments).toEqual([{ node: 'gate', fragment: 'auth', version: 1, pinned: false }]);
    expect(result.graph.document.nodes[1]).toMatchObject({ label: 'gate › key' });
  });

  it('runs the pinned version when the node names one, the active one otherwise', () => {
    const v2 = { ...auth, nodes: [auth.nodes[0]!, { ...auth.nodes[1]!, config: { header: 'x-key' } }] };
    const fragments = resolverOf({ auth: [auth, v2] });
    const pinned = validateWorkflow(workflow({ version: 1 }), { fragments });
    const following = validateWorkflow(workflow({}), { fragments });
    expect(pinned.ok && pinned.graph.nodes.get('gate/key')!.config).not.toMatchObject({ header: 'x-key' });
    expect(pinned.ok && pinned.graph.fragments[0]).toMatchObject({ version: 1, pinned: true });
    expect(following.ok && following.graph.nodes.get('gate/key')!.config).toMatchObject({ header: 'x-key' });
  });

  it.each([
    ['no such fragment', workflow({ fragment: 'nope' }), { code: 'unknown_fragment', node: 'gate', field: 'config.fragment' }],
    ['no such version', workflow({ version: 7 }), { code: 'unknown_fragment', node: 'gate', field: 'config.version' }],
    ['exits that differ from the fragment\'s', workflow({ exits: ['ok'] }, [{ from: 'gate', port: 'ok', to: 'answer' }]), { code: 'invalid_config', node: 'gate', field: 'config.exits' }],
    ['an exit left unwired', workflow({}, [{ from: 'gate', port: 'ok', to: 'answer' }]), { code: 'port_unwired', node: 'gate', field: 'ports.anonymous' }],
  ])('refuses %s, naming the subflow node and field', (_name, document, problem) => {
    const result = validateWorkflow(document, { fragments: resolverOf({ auth: [auth] }) });
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.objectContaining(problem));
  });

  it('refuses a workflow whose inlined nodes pass the node limit', () => {
    const result = validateWorkflow(workflow({}), { fragments: resolverOf({ auth: [auth] }), limits: { ...DEFAULT_DOCUMENT_LIMITS, nodes: 3 } });
    expect(result.problems).toContainEqual(expect.objectContaining({ code: 'too_large', field: 'nodes' }));
  });

  it('checks a subflow node as one node with its exits as ports when no fragments are given (the editor)', () => {
    const result = validateWorkflow(workflow({}));
    expect(result.ok).toBe(true);
  });
});

describe('validating a fragment', () => {
  it('passes a well-formed fragment', () => {
    expect(validateFragment(auth)).toEqual({ ok: true, fragment: auth, problems: [] });
  });

  it.each([
    ['an edge to nothing', { ...auth, edges: [...auth.edges.slice(0, 2), { from: 'key', port: 'ok', to: 'nowhere' }] }, { code: 'dangling_edge', node: 'key' }],
    ['an exit nothing leads to', { ...auth, edges: auth.edges.slice(0, 2), nodes: auth.nodes }, { field: 'exits.0', message: 'no edge leads to exit "ok"' }],
    ['a subflow inside', { ...auth, nodes: [...auth.nodes, { id: 'inner', kind: 'subflow', config: { fragment: 'x', exits: ['ok'] } }] }, { code: 'invalid_document', node: 'inner', field: 'kind' }],
    ['an exit named like a node', { ...auth, exits: [{ name: 'key' }, { name: 'anonymous' }] }, { code: 'invalid_document', field: 'exits.0.name' }],
    ['a bad expression', { ...auth, nodes: [{ ...auth.nodes[0]!, config: { when: '$$$(' } }, auth.nodes[1]!] }, { code: 'expression_syntax', node: 'has-key', field: 'config.when' }],
  ])('refuses %s, pinned to the fragment\'s own node or field', (_name, document, problem) => {
    const result = validateFragment(document);
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.objectContaining(problem));
  });

  it('refuses a fragment in its own words: its node ids as written, never the workflow it is checked in', () => {
    const looped = validateFragment({ ...auth, start: 'has-key', edges: [...auth.edges, { from: 'key', port: 'missing', to: 'has-key' }] });
    expect(looped.problems).toEqual([
      { code: 'edge_into_start', message: 'the start node "has-key" cannot have incoming edges', node: 'has-key', field: 'id' },
      { code: 'cycle', message: 'port "missing" leads back to "has-key", closing a cycle; workflows must be acyclic', node: 'key', field: 'ports.missing' },
    ]);
    const stray = validateFragment({ ...auth, edges: [...auth.edges, { from: 'ghost', port: 'ok', to: 'key' }] });
    expect(stray.problems).toEqual([{ code: 'dangling_edge', message: 'edge from unknown node "ghost"', field: 'edges.3.from' }]);
    const exitless = validateFragment({ ...auth, edges: auth.edges.slice(0, 2) });
    expect(exitless.problems).toEqual([
      { code: 'unreachable', message: 'no edge leads to exit "ok"', field: 'exits.0' },
      { code: 'port_unwired', message: 'port "ok" must be wired', node: 'key', field: 'ports.ok' },
    ]);
  });

  it('refuses a fragment past the size limits before anything else, and one without a start', () => {
    expect(validateFragment(auth, { limits: { ...DEFAULT_DOCUMENT_LIMITS, nodes: 1 } })).toEqual({ ok: false, problems: [{ code: 'too_large', message: 'the document has 2 nodes; at most 1 are allowed (SLUICE_MAX_NODES)', field: 'nodes' }] });
    const startless = validateFragment({ ...auth, edges: [...auth.edges, { from: 'key', port: 'missing', to: 'has-key' }] });
    expect(startless).toEqual({ ok: false, problems: [{ code: 'no_start', message: 'the fragment needs one start: name it in "start", or leave exactly one node without incoming edges', field: 'start' }] });
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, transition, type AnyStateMachine } from 'xstate';
import { createWorkflowMachine } from '../../engine/compile/machine.ts';
import { FAULT_STATE, FINISH_STATE, RUN_NODE_ACTOR, raiseState, toMachineConfig, validateWorkflow, type ValidGraph, type WorkflowMachineConfig } from '../../shared/compile/index.ts';

const root = new URL('../../', import.meta.url);
const readJson = (path: string): unknown => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

interface Doc {
  id: string;
  name: string;
  route: { methods: string[]; path: string };
  nodes: Array<{ id: string; kind: string; config: Record<string, unknown> }>;
  edges: Array<{ from: string; port: string; to: string }>;
}

/**
 *   verify --ok------> call   (ok unwired: finish; error, timeout, open unwired: raise)
 *          --missing-> deny   (an error node)
 *   verify's invalid and unavailable are unwired: raise.
 */
const small = (): Doc => ({
  id: 'small',
  name: 'Small',
  route: { methods: ['GET'], path: '/small' },
  nodes: [
    { id: 'verify', kind: 'jwt-verify', config: { jwksUri: 'https://issuer.example/jwks.json' } },
    { id: 'call', kind: 'proxy', config: { url: 'http://upstream.internal' } },
    { id: 'deny', kind: 'error', config: { error: 'insufficient_scope' } },
  ],
  edges: [
    { from: 'verify', port: 'ok', to: 'call' },
    { from: 'verify', port: 'missing', to: 'deny' },
  ],
});

function graphOf(document: unknown): ValidGraph {
  const result = validateWorkflow(document);
  if (!result.ok) throw new Error(`invalid: ${JSON.stringify(result.problems)}`);
  return result.graph;
}

const nodeState = (id: string, kind: string, on: Record<string, string>) => ({
  meta: { kind },
  invoke: { id, src: 'runNode', input: { node: id }, onDone: { actions: 'takePort' }, onError: { target: '$fault' } },
  on,
});
const raise = (node: string, port: string, error: string) => ({ type: 'final', meta: { outcome: 'raise', error, node, port } });

describe('toMachineConfig', () => {
  it('compiles a small workflow: node states, their port targets, and the final states', () => {
    const config = toMachineConfig(graphOf(small()));
    expect(config).toEqual({
      id: 'small',
      initial: 'verify',
      states: {
        verify: nodeState('verify', 'jwt-verify', { ok: 'call', missing: 'deny', invalid: '$raise:verify:invalid', unavailable: '$raise:verify:unavailable', suspended: '$raise:verify:suspended', unsubscribed: '$raise:verify:unsubscribed' }),
        call: nodeState('call', 'proxy', { ok: '$finish', error: '$raise:call:error', timeout: '$raise:call:timeout', open: '$raise:call:open' }),
        deny: nodeState('deny', 'error', { raise: '$raise:deny:raise' }),
        $finish: { type: 'final', meta: { outcome: 'finish' } },
        '$raise:verify:invalid': raise('verify', 'invalid', 'invalid_token'),
        '$raise:verify:unavailable': raise('verify', 'unavailable', 'keys_unavailable'),
        '$raise:verify:suspended': raise('verify', 'suspended', 'partner_suspended'),
        '$raise:verify:unsubscribed': raise('verify', 'unsubscribed', 'product_not_subscribed'),
        '$raise:call:error': raise('call', 'error', 'upstream_unavailable'),
        '$raise:call:timeout': raise('call', 'timeout', 'upstream_timeout'),
        '$raise:call:open': raise('call', 'open', 'upstream_circuit_open'),
        '$raise:deny:raise': raise('deny', 'raise', 'insufficient_scope'),
        $fault: { type: 'final', meta: { outcome: 'fault' } },
      },
    });
    // node states in document order, then $finish, the raise finals, $fault
    expect(Object.keys(config.states)).toEqual(['verify', 'call', 'deny', '$finish', '$raise:verify:invalid', '$raise:verify:unavailable', '$raise:verify:suspended', '$raise:verify:unsubscribed', '$raise:call:error', '$raise:call:timeout', '$raise:call:open', '$raise:deny:raise', '$fault']);
  });

  it('names its states with the exported constants', () => {
    expect([FINISH_STATE, FAULT_STATE, raiseState('a', 'b'), RUN_NODE_ACTOR]).toEqual(['$finish', '$fault', '$raise:a:b', 'runNode']);
  });

  it('leaves $finish out when no port finishes', () => {
    const doc = small();
    doc.nodes = doc.nodes.filter((n) => n.id !== 'call');
    doc.nodes.push({ id: 'call', kind: 'scope-check', config: { all: ['x'] } });
    doc.edges.push({ from: 'call', port: 'ok', to: 'deny' });
    const config = toMachineConfig(graphOf(doc));
    expect(config.states).not.toHaveProperty(FINISH_STATE);
    expect(config.states).toHaveProperty(FAULT_STATE);
  });

  it('is deterministic: the same document gives deep-equal configs and the same JSON', () => {
    const a = toMachineConfig(graphOf(small()));
    const b = toMachineConfig(graphOf(small()));
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    // plain JSON: nothing lost in a round trip
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('does not depend on the order of edges (targets follow the kind\'s port order)', () => {
    const reversed = small();
    reversed.edges.reverse();
    expect(JSON.stringify(toMachineConfig(graphOf(reversed)))).toBe(JSON.stringify(toMachineConfig(graphOf(small()))));
  });

  // Node order is kept on purpose: states are listed in the order the workflow lists its nodes
  // (ValidGraph.nodes is in document order), so an exported config reads like its document.
  // Reordering nodes therefore reorders the keys, but not what the machine is.
  it('lists states in document order; reordered nodes give an equal machine', () => {
    const reordered = small();
    reordered.nodes.reverse();
    const a = toMachineConfig(graphOf(small()));
    const b = toMachineConfig(graphOf(reordered));
    expect(b).toEqual(a);
    expect(Object.keys(b.states).slice(0, 3)).toEqual(['deny', 'call', 'verify']);
  });
});

/** For every node state and port, the state XState goes to; and where a runtime failure leads. */
function xstateTargets(machine: AnyStateMachine, config: WorkflowMachineConfig) {
  const targets: Record<string, Record<string, unknown>> = {};
  for (const [state, stateConfig] of Object.entries(config.states)) {
    if ('type' in stateConfig) continue;
    const snapshot = machine.resolveState({ value: state, context: {} });
    targets[state] = {};
    for (const port of [...Object.keys(stateConfig.on), `xstate.error.actor.${state}`]) targets[state][port] = transition(machine, snapshot, { type: port } as never)[0].value;
  }
  return targets;
}

describe('XState accepts the compiled configs', () => {
  const examples = readdirSync(new URL('examples/workflows/', root))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => [file, readJson(`examples/workflows/${file}`)] as const);

  it.each([['(small)', small() as unknown] as const, ...examples])('%s: XState builds the machine and agrees on every transition', (_file, document) => {
    const config = toMachineConfig(graphOf(document));
    const machine = createWorkflowMachine(config);
    expect(Object.keys(machine.root.states)).toEqual(Object.keys(config.states));
    for (const [name, stateConfig] of Object.entries(config.states)) {
      expect(machine.root.states[name]!.type).toBe('type' in stateConfig ? 'final' : 'atomic');
      expect(machine.root.states[name]!.meta).toEqual(stateConfig.meta);
    }
    const expected: Record<string, Record<string, unknown>> = {};
    for (const [state, stateConfig] of Object.entries(config.states))
      if (!('type' in stateConfig)) expected[state] = { ...stateConfig.on, [`xstate.error.actor.${state}`]: FAULT_STATE };
    expect(xstateTargets(machine, config)).toEqual(expected);
  });

  it.each([
    ['every node takes its first port', { verify: 'ok', call: 'ok' }, '$finish', ['verify', 'call']],
    ['no token: the error node raises', { verify: 'missing', deny: 'raise' }, '$raise:deny:raise', ['verify', 'deny']],
    ['upstream timeout: an unwired port raises', { verify: 'ok', call: 'timeout' }, '$raise:call:timeout', ['verify', 'call']],
    ['a runtime failure', { verify: 'ok' }, '$fault', ['verify', 'call']],
  ])('a live actor walks the small machine: %s', async (_name, ports: Record<string, string>, final, path) => {
    const machine = createWorkflowMachine(toMachineConfig(graphOf(small()))).provide({
      actors: {
        [RUN_NODE_ACTOR]: fromPromise<string, { node: string }>(async ({ input }) => {
          const port = ports[input.node];
          if (port === undefined) throw new Error(`${input.node} failed`);
          return port;
        }),
      },
    });
    const visited: string[] = [];
    const value = await new Promise<unknown>((resolve, reject) => {
      const actor = createActor(machine);
      actor.subscribe({
        next(snapshot) {
          if (snapshot.status === 'done') resolve(snapshot.value);
          else if (visited.at(-1) !== snapshot.value) visited.push(snapshot.value as string);
        },
        error: reject,
      });
      actor.start();
    });
    expect(value).toBe(final);
    expect(visited).toEqual(path);
  });
});

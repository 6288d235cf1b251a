import { fromPromise, raise, setup, transition, type AnyStateMachine } from 'xstate';
import { FAULT_STATE, RUN_NODE_ACTOR, TAKE_PORT_ACTION, type NodeStateConfig, type WorkflowMachineConfig } from '../../shared/compile/index.ts';
import type { Pace } from './pace.ts';
import type { TableCache, TransitionTable } from './table-cache.ts';
import type { CompiledWorkflow } from './types.ts';

/** The XState machine of a workflow config. Node runs are supplied per request (live actors) or walked by table. */
export function createWorkflowMachine(config: WorkflowMachineConfig): AnyStateMachine {
  return setup({
    actors: { [RUN_NODE_ACTOR]: fromPromise<string, { node: string }>(async () => { throw new Error('runNode is provided per request'); }) },
    actions: { [TAKE_PORT_ACTION]: raise(({ event }) => ({ type: (event as unknown as { output: string }).output })) },
  }).createMachine(config as never) as unknown as AnyStateMachine;
}

/** Node states per XState machine the table is asked of: building one takes a few milliseconds. */
const TABLE_CHUNK = 32;

/**
 * The state XState takes `machine` to from `snapshot` on `type`: the one transition its own
 * transition selection (getTransitionData) enables, when that leads to one state of the
 * machine's top level, as a compiled workflow's transitions do; otherwise (never, for a machine
 * toMachineConfig made) the state a whole macrostep (transition()) reaches.
 */
function nextState(machine: AnyStateMachine, snapshot: ReturnType<AnyStateMachine['resolveState']>, type: string): string {
  const enabled = machine.getTransitionData(snapshot, { type } as never);
  const target = enabled.length === 1 ? enabled[0]!.target : undefined;
  if (target?.length === 1 && target[0]!.parent === machine.root && target[0]!.type !== 'compound' && target[0]!.type !== 'parallel') return target[0]!.key;
  const [next] = transition(machine, snapshot, { type } as never);
  if (typeof next.value !== 'string') throw new Error(`state ${String(snapshot.value)} on ${type} leads to a compound state`);
  return next.value;
}

/**
 * The config with its states named by their place (s0, s1, …) and what names them renamed alike
 * (targets, invoke ids), without the metadata transitions never read: workflows of one structure
 * (the same wiring of the same ports), whatever their node ids, kinds or errors, have one such
 * config, and XState's table of it, renamed back, is the table of each. `names[i]` is the name of
 * state `s${i}`.
 */
export function canonical(config: WorkflowMachineConfig): { config: WorkflowMachineConfig; names: string[] } {
  const names = Object.keys(config.states);
  const index = new Map(names.map((name, i) => [name, `s${i}`]));
  const rename = (name: string) => {
    const renamed = index.get(name);
    if (renamed === undefined) throw new Error(`a transition leads to the unknown state ${name}`);
    return renamed;
  };
  const states: WorkflowMachineConfig['states'] = {};
  for (const [name, stateConfig] of Object.entries(config.states)) {
    const id = rename(name);
    if ('type' in stateConfig) {
      states[id] = { type: 'final', meta: { outcome: 'finish' } };
      continue;
    }
    const on: Record<string, string> = {};
    for (const [port, target] of Object.entries(stateConfig.on)) on[port] = rename(target);
    states[id] = { meta: { kind: '' }, invoke: { ...stateConfig.invoke, id, input: { node: id }, onError: { target: rename(stateConfig.invoke.onError.target) } }, on };
  }
  return { config: { id: 'workflow', initial: rename(config.initial), states }, names };
}

/**
 * Asks XState, for every node state and every port its node can exit by, which state comes
 * next; the answers form the table the gateway walks per request. With `tables`, the table is
 * asked of the workflow's canonical config (states named by their place) and kept by it, so a
 * workflow of a structure XState answered before (in this process, or one before it on this data
 * dir) is not asked again.
 */
export async function computeTable(config: WorkflowMachineConfig, pace: Pace, tables?: TableCache): Promise<TransitionTable> {
  if (tables === undefined) return tableOf(config, pace);
  const { config: shape, names } = canonical(config);
  const key = tables.keyOf(shape);
  let table = tables.get(key, shape);
  if (table === undefined) {
    table = await tableOf(shape, pace);
    tables.put(key, table);
  }
  const nameOf = (state: string) => names[Number(state.slice(1))]!;
  const renamed = new Map<string, Map<string, string>>();
  for (const [state, targets] of table) renamed.set(nameOf(state), new Map(Array.from(targets, ([port, target]) => [port, nameOf(target)])));
  return renamed;
}

/**
 * XState's table of a config. It answers for a few dozen states at a time, each on a machine of
 * those states (their configs as compiled) and the states they lead to: asking one machine of
 * all the states costs time in proportion to their number per state (resolveState reads every
 * sibling), 40 s for a 10,000-node chain, in one stretch no request could interrupt. The states a
 * chunk leads to keep their type (a final state stays final); their own transitions are asked in
 * their own chunk.
 */
async function tableOf(config: WorkflowMachineConfig, pace: Pace): Promise<TransitionTable> {
  const table = new Map<string, Map<string, string>>();
  const nodeStates = Object.entries(config.states).filter((entry): entry is [string, NodeStateConfig] => !('type' in entry[1]));
  for (let from = 0; from < nodeStates.length; from += TABLE_CHUNK) {
    const chunk = nodeStates.slice(from, from + TABLE_CHUNK);
    const states: WorkflowMachineConfig['states'] = Object.fromEntries(chunk);
    for (const [, stateConfig] of chunk)
      for (const target of [...Object.values(stateConfig.on), stateConfig.invoke.onError.target]) {
        if (Object.hasOwn(states, target)) continue;
        const targetConfig = config.states[target];
        if (targetConfig === undefined) throw new Error(`a transition leads to the unknown state ${target}`);
        states[target] = 'type' in targetConfig ? targetConfig : ({} as NodeStateConfig); // a node state of another chunk
      }
    const machine = createWorkflowMachine({ id: config.id, initial: chunk[0]![0], states });
    for (const [state, stateConfig] of chunk) {
      const snapshot = machine.resolveState({ value: state, context: {} });
      const targets = new Map<string, string>();
      const events = [...Object.keys(stateConfig.on).map((port) => ({ port, type: port })), { port: FAULT_STATE, type: `xstate.error.actor.${state}` }];
      for (const { port, type } of events) targets.set(port, nextState(machine, snapshot, type));
      table.set(state, targets);
      await pace();
    }
  }
  return table;
}

/** The whole machine of each compiled config, built when first asked for (a served version never is). */
const machines = new WeakMap<WorkflowMachineConfig, AnyStateMachine>();

/** The XState machine of a compiled workflow: what the live actor runs (the agreement test). */
export function workflowMachine(workflow: Pick<CompiledWorkflow, 'machineConfig'>): AnyStateMachine {
  let machine = machines.get(workflow.machineConfig);
  if (machine === undefined) machines.set(workflow.machineConfig, (machine = createWorkflowMachine(workflow.machineConfig)));
  return machine;
}

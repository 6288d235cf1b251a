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
 * A machine config's structure, with its states named by their place (0, 1, …): for each state,
 * 0 when it is final, else where its node's failure leads and where each port leads. Workflows of
 * one structure (the same wiring of the same ports), whatever their node ids, kinds or errors,
 * have one, and so one transition table up to the names of their states. `names[i]` is the
 * name of state i.
 */
export function shapeOf(config: WorkflowMachineConfig): { shape: string; names: string[] } {
  const names = Object.keys(config.states);
  const index = new Map<string, number>();
  for (let i = 0; i < names.length; i++) index.set(names[i]!, i);
  const place = (name: string) => {
    const at = index.get(name);
    if (at === undefined) throw new Error(`a transition leads to the unknown state ${name}`);
    return at;
  };
  // JSON.stringify of [0 | [fault, port, place, port, place, …], …], written directly (it runs for every compiled workflow)
  let shape = '[';
  for (let i = 0; i < names.length; i++) {
    const stateConfig = config.states[names[i]!]!;
    if (i > 0) shape += ',';
    if ('type' in stateConfig) {
      shape += '0';
      continue;
    }
    shape += `[${place(stateConfig.invoke.onError.target)}`;
    const on = stateConfig.on;
    for (const port of Object.keys(on)) shape += `,${JSON.stringify(port)},${place(on[port]!)}`;
    shape += ']';
  }
  return { shape: `${shape}]`, names };
}

/** The config of a structure (shapeOf): states s0, s1, … wired as it says, without the metadata transitions never read. */
function configOfShape(shape: string): WorkflowMachineConfig {
  const parts = JSON.parse(shape) as Array<0 | [number, ...Array<string | number>]>;
  const states: WorkflowMachineConfig['states'] = {};
  parts.forEach((part, i) => {
    const id = `s${i}`;
    if (part === 0) {
      states[id] = { type: 'final', meta: { outcome: 'finish' } };
      return;
    }
    const [fault, ...ports] = part;
    const on: Record<string, string> = {};
    for (let p = 0; p < ports.length; p += 2) on[ports[p] as string] = `s${ports[p + 1] as number}`;
    states[id] = { meta: { kind: '' }, invoke: { id, src: RUN_NODE_ACTOR, input: { node: id }, onDone: { actions: TAKE_PORT_ACTION }, onError: { target: `s${fault}` } }, on };
  });
  return { id: 'workflow', initial: 's0', states };
}

/** Whether `table` answers every port of every node state of `config` (and its failure), each with a state `config` has. */
function fits(table: TransitionTable, config: WorkflowMachineConfig): boolean {
  let nodes = 0;
  for (const state in config.states) {
    const stateConfig = config.states[state]!;
    if ('type' in stateConfig) continue;
    nodes++;
    const targets = table.get(state);
    if (targets === undefined) return false;
    let ports = 1;
    for (const port of Object.keys(stateConfig.on)) {
      ports++;
      const target = targets.get(port);
      if (target === undefined || !Object.hasOwn(config.states, target)) return false;
    }
    const fault = targets.get(FAULT_STATE);
    if (targets.size !== ports || fault === undefined || !Object.hasOwn(config.states, fault)) return false;
  }
  return table.size === nodes;
}

/**
 * Asks XState, for every node state and every port its node can exit by, which state comes
 * next; the answers form the table the gateway walks per request. With `tables`, the table is
 * asked of the workflow's structure (shapeOf: states named by their place) and kept by it, so a
 * workflow of a structure XState answered before (in this process, or one before it on this data
 * dir) is not asked again; a kept table that does not fit the workflow is asked again.
 */
export async function computeTable(config: WorkflowMachineConfig, pace: Pace, tables?: TableCache): Promise<TransitionTable> {
  if (tables === undefined) return tableOf(config, pace);
  const { shape, names } = shapeOf(config);
  const key = tables.keyOf(shape);
  const nameOf = (state: string) => names[Number(state.slice(1))] ?? state;
  const renamed = (table: TransitionTable) => {
    const map = new Map<string, Map<string, string>>();
    for (const [state, targets] of table) {
      const named = new Map<string, string>();
      for (const [port, target] of targets) named.set(port, nameOf(target));
      map.set(nameOf(state), named);
    }
    return map;
  };
  const known = tables.get(key);
  if (known !== undefined) {
    const table = renamed(known);
    if (fits(table, config)) return table;
    tables.forget(key);
  }
  const table = await tableOf(configOfShape(shape), pace);
  tables.put(key, table);
  return renamed(table);
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
      const pause = pace();
      if (pause) await pause;
    }
  }
  return table;
}

/** The whole machine of each compiled config, built when first asked for (a served version never is). */
const machines = new WeakMap<WorkflowMachineConfig, AnyStateMachine>();

/** The XState machine of a compiled workflow: what the live actor runs (the agreement test). */
export function workflowMachine(workflow: Pick<CompiledWorkflow, 'machineConfig'>): AnyStateMachine {
  const config = workflow.machineConfig();
  let machine = machines.get(config);
  if (machine === undefined) machines.set(config, (machine = createWorkflowMachine(config)));
  return machine;
}

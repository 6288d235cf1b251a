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

/** The config of a structure (MachineLayout's shape): states s0, s1, … wired as it says, without the metadata transitions never read. */
function configOfShape(parts: ShapeParts): WorkflowMachineConfig {
  const states: WorkflowMachineConfig['states'] = {};
  parts.forEach((part, i) => {
    const id = placeName(i);
    if (part === 0) {
      states[id] = { type: 'final', meta: { outcome: 'finish' } };
      return;
    }
    const [fault, ...ports] = part;
    const on: Record<string, string> = {};
    for (let p = 0; p < ports.length; p += 2) on[ports[p] as string] = placeName(ports[p + 1] as number);
    states[id] = { meta: { kind: '' }, invoke: { id, src: RUN_NODE_ACTOR, input: { node: id }, onDone: { actions: TAKE_PORT_ACTION }, onError: { target: placeName(fault) } }, on };
  });
  return { id: 'workflow', initial: placeName(0), states };
}

/** A shape parsed: per place, 0 for a final state, else [fault place, port, place, port, place, …]. */
type ShapeParts = Array<0 | [number, ...Array<string | number>]>;

/** The names of places in the tables XState answers for shapes: s0, s1, … (made once, shared). */
const placeNames: string[] = [];
const placeName = (place: number) => (placeNames[place] ??= `s${place}`);

/** Where each port (and FAULT_STATE) of each node state leads, by place: index i is the node state at place i (MachineLayout). */
export type PlaceTable = ReadonlyArray<ReadonlyMap<string, number>>;

/** Tables read by place, each once, with the shape they were read for (a table fits one shape). */
const placeTables = new WeakMap<TransitionTable, { shape: string; places: PlaceTable | undefined }>();

/**
 * A table of a shape's states (named s0, s1, …) by place, when it answers every port of every
 * node state of `shape` (and its failure), each with a state the shape has, and nothing else;
 * undefined otherwise (an altered cache file, another XState).
 */
function placesOf(table: TransitionTable, shape: string): PlaceTable | undefined {
  const read = placeTables.get(table);
  if (read?.shape === shape) return read.places;
  const parts = JSON.parse(shape) as ShapeParts;
  const placeOf = (name: string | undefined) => {
    const place = name !== undefined && /^s(0|[1-9]\d*)$/.test(name) ? Number(name.slice(1)) : -1;
    return place < parts.length ? place : -1;
  };
  const places: Array<Map<string, number>> = [];
  let nodes = 0;
  let fits = true;
  for (let i = 0; i < parts.length && fits; i++) {
    const part = parts[i]!;
    if (part === 0) continue;
    nodes++;
    const targets = table.get(placeName(i));
    const ports = new Map<string, number>();
    for (let p = 1; p < part.length && targets !== undefined; p += 2) ports.set(part[p] as string, placeOf(targets.get(part[p] as string)));
    ports.set(FAULT_STATE, placeOf(targets?.get(FAULT_STATE)));
    fits = targets?.size === ports.size && [...ports.values()].every((place) => place >= 0);
    places[i] = ports;
  }
  const answer = fits && table.size === nodes ? places : undefined;
  placeTables.set(table, { shape, places: answer });
  return answer;
}

/**
 * Asks XState, for every node state and every port its node can exit by, which state comes
 * next, for a workflow's structure (MachineLayout's shape); the answers, by place, form the
 * table the gateway walks per request. With `tables`, the table is kept by its structure, so a
 * workflow of a structure XState answered before (in this process, or one before it on this data
 * dir) is not asked again; a kept table that does not fit the structure is asked again.
 */
export async function computeTable(shape: string, pace: Pace, tables?: TableCache): Promise<PlaceTable> {
  const key = tables?.keyOf(shape);
  if (key !== undefined) {
    const known = tables!.get(key);
    const places = known === undefined ? undefined : placesOf(known, shape);
    if (places !== undefined) return places;
    if (known !== undefined) tables!.forget(key);
  }
  const table = await tableOf(configOfShape(JSON.parse(shape) as ShapeParts), pace);
  if (key !== undefined) tables!.put(key, table);
  const places = placesOf(table, shape);
  if (places === undefined) throw new Error('XState answered a table that does not fit the workflow');
  return places;
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

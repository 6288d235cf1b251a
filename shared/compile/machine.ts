import { runAtOnce, sliceCounter, type Sliced } from './slices.ts';
import type { GraphNode, ValidGraph } from './validate.ts';

/** Final state reached when a port ends the request with the current response. */
export const FINISH_STATE = '$finish';
/** Final state reached when a node's runtime fails (its error says which catalog error answers), and the port metrics, traces and contracts name that exit by. */
export const FAULT_STATE = '$fault';
/** Final state reached when an unwired failure port raises its catalog error. */
export const raiseState = (node: string, port: string) => `$raise:${node}:${port}`;

/** The meta of $finish and of $fault: the same in every workflow, so one object each. */
const FINISH_META: FinalStateMeta = Object.freeze({ outcome: 'finish' });
const FAULT_META: FinalStateMeta = Object.freeze({ outcome: 'fault' });

/** The name of a final state: $finish, $fault, or a raise state's (made when asked for: a gateway of 10,000 workflows has ~110,000 raise states). */
export function finalStateName(meta: FinalStateMeta): string {
  return meta.outcome === 'raise' ? raiseState(meta.node!, meta.port!) : meta.outcome === 'finish' ? FINISH_STATE : FAULT_STATE;
}

/** The name under which the engine supplies the actor that runs a node. */
export const RUN_NODE_ACTOR = 'runNode';
/** The name of the action that turns a node's result (its port) into the next event. */
export const TAKE_PORT_ACTION = 'takePort';

export interface FinalStateMeta {
  outcome: 'finish' | 'raise' | 'fault';
  error?: string;
  node?: string;
  port?: string;
}

export interface NodeStateConfig {
  meta: { kind: string };
  invoke: { id: string; src: string; input: { node: string }; onDone: { actions: string }; onError: { target: string } };
  on: Record<string, string>;
}
interface FinalStateConfig {
  type: 'final';
  meta: FinalStateMeta;
}

/** Plain-JSON XState machine config: what `sluice export xstate` writes and XState's tools can show. */
export interface WorkflowMachineConfig {
  id: string;
  initial: string;
  states: Record<string, NodeStateConfig | FinalStateConfig>;
}

/**
 * A workflow's machine by place: the states toMachineConfig names, in its order, and the
 * structure the transition table is asked of (engine/compile/machine.ts' computeTable). The
 * engine compiles from this without making the config (a restart of 10,000 workflows spent ~0.8 s
 * making configs, naming their states and renaming the tables by name).
 */
export interface MachineLayout {
  /** The node of each node state: places 0 … nodes.length - 1, in the graph's order. */
  nodes: GraphNode[];
  /** Per node state, each port it leaves by (in the node's order) and the place it leads to. */
  wiring: Array<Array<[port: string, place: number]>>;
  /** The final states after the node states (finalStateName names them): $finish when a port finishes, each raise state, then $fault, the last place (where every node's failure leads). */
  finals: FinalStateMeta[];
  /**
   * The structure, states named by their place: for each, 0 when it is final, else
   * [fault place, port, place, port, place, …], as JSON. Workflows of one structure (the same
   * wiring of the same ports), whatever their node ids, kinds or errors, have one, and so one
   * transition table up to the names of their states.
   */
  shape: string;
}

/** A final state a port leads to before the places of the finals are known: $finish, or the k-th raise state. */
const FINISH_PENDING = -1;
const raisePending = (k: number) => -2 - k;

/** The machine layout of a validated workflow, in slices of a few hundred nodes (a server compiling a large document paces them). */
export function* machineLayoutOf(graph: ValidGraph): Sliced<MachineLayout> {
  const nodes = [...graph.nodes.values()];
  const placeOf = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) placeOf.set(nodes[i]!.id, i);
  const wiring: MachineLayout['wiring'] = [];
  const raises: MachineLayout['finals'] = [];
  let finishes = false;
  const due = sliceCounter();
  for (const node of nodes) {
    if (due()) yield;
    const ports: Array<[string, number]> = [];
    for (const port of node.ports) {
      const to = node.next.get(port.name);
      if (to !== undefined) ports.push([port.name, placeOf.get(to)!]);
      else if (port.unwired === 'finish') {
        ports.push([port.name, FINISH_PENDING]);
        finishes = true;
      } else if (port.unwired !== 'required') {
        ports.push([port.name, raisePending(raises.length)]);
        raises.push({ outcome: 'raise', error: port.unwired.error, node: node.id, port: port.name });
      }
    }
    wiring.push(ports);
  }
  const finals: MachineLayout['finals'] = finishes ? [FINISH_META, ...raises] : raises;
  finals.push(FAULT_META);
  const firstRaise = nodes.length + (finishes ? 1 : 0);
  const fault = nodes.length + finals.length - 1;
  // JSON.stringify of [0 | [fault, port, place, port, place, …], …], written directly (it runs for every compiled workflow)
  let shape = '[';
  for (const ports of wiring) {
    if (due()) yield;
    shape += `[${fault}`;
    for (const entry of ports) {
      if (entry[1] < 0) entry[1] = entry[1] === FINISH_PENDING ? nodes.length : firstRaise + (-2 - entry[1]);
      shape += `,${JSON.stringify(entry[0])},${entry[1]}`;
    }
    shape += '],';
  }
  shape += `${'0,'.repeat(finals.length - 1)}0]`;
  return { nodes, wiring, finals, shape };
}

/**
 * Compiles a validated workflow to an XState machine config. Pure and deterministic: the
 * same document gives the same JSON. Node states invoke the `runNode` actor; its output
 * (a port name) is raised as an event whose transition leads to the next node or a final state.
 * @example
 * const config = toMachineConfig(result.graph);
 * const machine = setup({ actors: { runNode }, actions: { takePort } }).createMachine(config);
 */
export function toMachineConfig(graph: ValidGraph): WorkflowMachineConfig {
  const { nodes, wiring, finals } = runAtOnce(machineLayoutOf(graph));
  const nameOf = (place: number) => (place < nodes.length ? nodes[place]!.id : finalStateName(finals[place - nodes.length]!));
  // Keyed by node ids: without a prototype, so a port or node named "constructor" finds nothing of Object's.
  const states = Object.create(null) as WorkflowMachineConfig['states'];
  nodes.forEach((node, i) => {
    const on: Record<string, string> = {};
    for (const [port, place] of wiring[i]!) on[port] = nameOf(place);
    states[node.id] = {
      meta: { kind: node.kind },
      invoke: { id: node.id, src: RUN_NODE_ACTOR, input: { node: node.id }, onDone: { actions: TAKE_PORT_ACTION }, onError: { target: FAULT_STATE } },
      on,
    };
  });
  for (const meta of finals) states[finalStateName(meta)] = { type: 'final', meta };
  return { id: graph.document.id, initial: graph.start, states };
}

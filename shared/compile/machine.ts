import { runAtOnce, sliceCounter, type Sliced } from './slices.ts';
import type { ValidGraph } from './validate.ts';

/** Final state reached when a port ends the request with the current response. */
export const FINISH_STATE = '$finish';
/** Final state reached when a node's runtime fails (its error says which catalog error answers), and the port metrics, traces and contracts name that exit by. */
export const FAULT_STATE = '$fault';
/** Final state reached when an unwired failure port raises its catalog error. */
export const raiseState = (node: string, port: string) => `$raise:${node}:${port}`;

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
 * Compiles a validated workflow to an XState machine config. Pure and deterministic: the
 * same document gives the same JSON. Node states invoke the `runNode` actor; its output
 * (a port name) is raised as an event whose transition leads to the next node or a final state.
 * @example
 * const config = toMachineConfig(result.graph);
 * const machine = setup({ actors: { runNode }, actions: { takePort } }).createMachine(config);
 */
export function toMachineConfig(graph: ValidGraph): WorkflowMachineConfig {
  return runAtOnce(toMachineConfigSliced(graph));
}

/** toMachineConfig in slices of a few hundred nodes, for a server compiling a large document. */
export function* toMachineConfigSliced(graph: ValidGraph): Sliced<WorkflowMachineConfig> {
  // Keyed by node ids, which differ from workflow to workflow: without a prototype (a dictionary
  // from the start), so a gateway compiling 10,000 workflows does not grow an object shape per
  // id set. JSON, XState and Object.entries read it as any object.
  const states = Object.create(null) as WorkflowMachineConfig['states'];
  // The raise states go in after the node states; gathered in a list, each key is added to one
  // dictionary once (a second dictionary and Object.assign had cost half of this function).
  const finals: Array<[string, WorkflowMachineConfig['states'][string]]> = [];
  let finishes = false;
  const due = sliceCounter();
  for (const node of graph.nodes.values()) {
    if (due()) yield;
    const on: Record<string, string> = {};
    for (const port of node.ports) {
      const to = node.next.get(port.name);
      if (to !== undefined) on[port.name] = to;
      else if (port.unwired === 'finish') {
        on[port.name] = FINISH_STATE;
        finishes = true;
      } else if (port.unwired !== 'required') {
        const name = raiseState(node.id, port.name);
        on[port.name] = name;
        finals.push([name, { type: 'final', meta: { outcome: 'raise', error: port.unwired.error, node: node.id, port: port.name } }]);
      }
    }
    states[node.id] = {
      meta: { kind: node.kind },
      invoke: { id: node.id, src: RUN_NODE_ACTOR, input: { node: node.id }, onDone: { actions: TAKE_PORT_ACTION }, onError: { target: FAULT_STATE } },
      on,
    };
  }
  if (finishes) states[FINISH_STATE] = { type: 'final', meta: { outcome: 'finish' } };
  for (const [name, state] of finals) states[name] = state;
  states[FAULT_STATE] = { type: 'final', meta: { outcome: 'fault' } };
  return { id: graph.document.id, initial: graph.start, states };
}

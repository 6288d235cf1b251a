import { createActor, fromPromise } from 'xstate';
import { FAULT_STATE, RUN_NODE_ACTOR, type FinalStateMeta, type NodeStateConfig } from '../../shared/compile/index.ts';
import type { Exchange } from '../kinds/types.ts';
import { workflowMachine } from './machine.ts';
import type { CompiledWorkflow, FinalStep, NodeStep, Step } from './types.ts';

/** A runtime named a port its node does not have: a fault, in the table walk and the live actor alike. */
function unknownPort(state: string, port: unknown): Error {
  return new Error(`node ${state} exited by unknown port "${String(port)}"`);
}

/** The end of one walk: the final step and the states passed through. */
export interface WalkResult {
  final: FinalStep;
  states: string[];
  error?: unknown;
}

/**
 * Hears each node of a walk: the gateway times them for a request's span, the preview records
 * its trace. Metrics need none: a step counts its own runs.
 */
export interface WalkObserver {
  /** Before the node runs; a promise returned is awaited first (the preview's pace). */
  started(step: NodeStep): Promise<void> | undefined;
  /** After it ran: the port it left by, FAULT_STATE when it failed or named a port it does not have (`error` says which). */
  ended(step: NodeStep, port: string, error: unknown): void;
}

/**
 * Runs a request through the workflow by its table: run the node, take the port it names,
 * look up the next state, until a final state. Synchronous nodes cost no promise hop. Nodes are
 * timed only when metrics count them; an observer hears every node's start and end.
 */
export async function walk(workflow: CompiledWorkflow, exchange: Exchange, states: string[], observer?: WalkObserver): Promise<WalkResult> {
  let step: Step = workflow.start;
  while (!step.final) {
    states.push(step.state);
    if (observer !== undefined) {
      const pause = observer.started(step);
      if (pause !== undefined) await pause;
    }
    const metrics = step.metrics;
    // Stryker disable next-line ConditionalExpression: equivalent when always taken: `started` is read only with metrics
    const started = metrics !== undefined ? performance.now() : 0;
    let port: string | Promise<string>;
    try {
      port = step.run(exchange);
      // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent: awaiting a string gives the string (the test only spares synchronous nodes a promise hop)
      if (typeof port !== 'string') port = await port;
    } catch (error) {
      metrics?.ran((performance.now() - started) / 1000, FAULT_STATE, exchange.partner);
      observer?.ended(step, FAULT_STATE, error);
      return { final: step.fault, states, error };
    }
    metrics?.ran((performance.now() - started) / 1000, port, exchange.partner);
    const next: Step | undefined = step.next[port];
    if (next === undefined) {
      const error = unknownPort(step.state, port);
      observer?.ended(step, FAULT_STATE, error);
      return { final: step.fault, states, error };
    }
    observer?.ended(step, port, undefined);
    step = next;
  }
  return { final: step, states };
}

/**
 * Runs a request through a live XState actor of the same machine: the reference semantics the
 * table walk must agree with. Only the agreement test runs it; the gateway and the preview walk the table.
 */
export function runWithActor(workflow: CompiledWorkflow, exchange: Exchange): Promise<WalkResult> {
  const states: string[] = [];
  let error: unknown;
  const machine = workflowMachine(workflow).provide({
    actors: {
      [RUN_NODE_ACTOR]: fromPromise<string, { node: string }>(async ({ input }) => {
        try {
          const port = await workflow.prepared.get(input.node)!.run(exchange);
          // An event the state does not handle would leave the actor in the state forever; XState's
          // own events (xstate.*) would be taken as the machine's. Neither is a port: fail the node.
          const on = (workflow.machineConfig().states[input.node] as NodeStateConfig).on;
          if (typeof port !== 'string' || !Object.hasOwn(on, port)) throw unknownPort(input.node, port);
          return port;
        } catch (cause) {
          error = cause;
          throw cause;
        }
      }),
    },
  });
  return new Promise((resolve, reject) => {
    const actor = createActor(machine);
    actor.subscribe({
      next(snapshot) {
        const value = snapshot.value as string;
        if (snapshot.status === 'done') {
          const stateConfig = workflow.machineConfig().states[value]!;
          resolve({ final: { final: true, state: value, meta: (stateConfig as { meta: FinalStateMeta }).meta }, states, ...(error === undefined ? {} : { error }) });
        } else if (states[states.length - 1] !== value) states.push(value);
      },
      error: reject,
    });
    actor.start();
  });
}

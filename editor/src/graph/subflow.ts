/**
 * The server validates and previews a workflow with its subflow nodes inlined, so its problems
 * and trace steps may name an inlined node (`auth/verify`: the fragment's node `verify` in the
 * subflow node `auth`). The canvas draws the subflow node, not its inside: these map such ids back
 * to the node that is drawn (shared `ownerOf`).
 */
import { ownerOf } from '../../../shared/compile/index.ts';
import type { ValidationProblem } from '../api/types.ts';

/**
 * Problems pinned to the nodes on the canvas: one about an inlined node goes to its subflow node,
 * saying which node of the fragment it is about (its field is the fragment node's, not one of the
 * subflow node's form, so it is dropped).
 * @example
 * pinnedToOwners([{ code: 'invalid_config', node: 'auth/verify', field: 'config.issuer', message: 'x' }]);
 * // [{ code: 'invalid_config', node: 'auth', message: 'In the fragment\'s node "verify": x' }]
 */
export function pinnedToOwners(problems: ValidationProblem[]): ValidationProblem[] {
  if (!problems.some((p) => p.node !== undefined && ownerOf(p.node) !== p.node)) return problems;
  return problems.map((p) => {
    if (p.node === undefined) return p;
    const owner = ownerOf(p.node);
    if (owner === p.node) return p;
    const { field: _field, ...rest } = p;
    return { ...rest, node: owner, message: `In the fragment's node "${p.node.slice(owner.length + 1)}": ${p.message}` };
  });
}

/** A trace step as the canvas highlight needs it. */
interface Step {
  node: string;
  port: string;
  ms: number;
}

/**
 * A trace as the canvas draws it: the steps inside one subflow node become one step of that node,
 * its time the sum, its port the exit it left by (the port of its edge to where the trace went
 * next; none when the fragment answered inside).
 * @example
 * ownerTrace([{ node: 'auth/verify', port: 'ok', ms: 1 }, { node: 'call', port: 'ok', ms: 2 }], [{ from: 'auth', port: 'done', to: 'call' }]);
 * // [{ node: 'auth', port: 'done', ms: 1 }, { node: 'call', port: 'ok', ms: 2 }]
 */
export function ownerTrace(trace: readonly Step[], edges: ReadonlyArray<{ from: string; port: string; to: string }>): Step[] {
  const steps: Step[] = [];
  for (const [i, step] of trace.entries()) {
    const owner = ownerOf(step.node);
    const last = steps.at(-1);
    const inlined = owner !== step.node;
    if (inlined && last !== undefined && last.node === owner) last.ms += step.ms;
    else steps.push({ node: owner, port: inlined ? '' : step.port, ms: step.ms });
    const next = trace[i + 1];
    if (inlined && (next === undefined || ownerOf(next.node) !== owner)) {
      const to = next === undefined ? undefined : ownerOf(next.node);
      steps.at(-1)!.port = edges.find((e) => e.from === owner && e.to === to)?.port ?? '';
    }
  }
  return steps;
}

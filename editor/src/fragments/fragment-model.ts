/**
 * A fragment document on the canvas: its nodes as the workflow editor draws them (graph/convert.ts),
 * and each exit as an exit node (a target only) named as the exit, so an edge to it is an edge
 * whose `to` is the exit's name. The exits themselves live in the model's meta: the exit nodes are
 * drawn from them, so deleting or copying one on the canvas cannot change what the fragment declares.
 */
import type { XYPosition } from '@xyflow/react';
import { exitNameSchema, MAX_EXITS } from '../../../shared/schema/fragment.ts';
import { toDocument, toFlow, type DraftDocument, type FlowModel, type FlowNode } from '../graph/convert.ts';

/** The data kind of an exit node: no node kind has an "@" in its name. */
const EXIT_KIND = '@exit';

export type Exit = { name: string; description?: string };

export const isExitNode = (node: { type?: string | undefined }) => node.type === 'exit';

const exitsOf = (model: FlowModel): Exit[] => model.meta.exits ?? [];

function exitNode(exit: Exit, position: XYPosition): FlowNode {
  return { id: exit.name, type: 'exit', position, data: { kind: EXIT_KIND, config: {}, ...(exit.description ? { label: exit.description } : {}) }, ariaLabel: `Exit ${exit.name}` };
}

/** Where an exit without a position goes: right of the drawn nodes, one under the other. */
function exitPlace(nodes: readonly FlowNode[], index: number): XYPosition {
  const right = nodes.reduce((x, n) => Math.max(x, n.position.x + 300), 0);
  return { x: right, y: index * 110 };
}

/**
 * The model with exactly one exit node per declared exit (missing ones drawn again, stray ones and
 * copies of one dropped, with their edges), so every change keeps the canvas true to the exits.
 */
export function withExitNodes(model: FlowModel): FlowModel {
  const exits = exitsOf(model);
  const names = new Set(exits.map((e) => e.name));
  const kept = model.nodes.filter((n) => (isExitNode(n) ? names.has(n.id) : n.data.kind !== EXIT_KIND));
  const drawn = new Map(kept.filter(isExitNode).map((n) => [n.id, n]));
  const missing = exits.filter((e) => !drawn.has(e.name) || (drawn.get(e.name)!.data.label ?? '') !== (e.description ?? ''));
  if (missing.length === 0 && kept.length === model.nodes.length) return model;
  const real = kept.filter((n) => !isExitNode(n));
  const nodes = [
    ...real,
    ...exits.map((e, i) => {
      const old = drawn.get(e.name);
      return exitNode(e, old?.position ?? exitPlace(real, i));
    }),
  ];
  const ids = new Set(nodes.map((n) => n.id));
  const edges = model.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  return { ...model, nodes, edges };
}

/** A fragment document -> the canvas model (exit positions from its layout). */
export function fragmentToModel(document: DraftDocument): { model: FlowModel; unplaced: string[] } {
  const { model, unplaced } = toFlow(document);
  const layout = document.layout ?? {};
  const real = model.nodes;
  const exits = (document.exits ?? []).map((e, i) => exitNode(e, Object.hasOwn(layout, e.name) ? layout[e.name]! : exitPlace(real, i)));
  return { model: { ...model, nodes: [...real, ...exits] }, unplaced };
}

/** The canvas model -> a fragment document: its nodes, edges (those to an exit name it), exits and layout of both. */
export function modelToFragment(model: FlowModel): DraftDocument {
  const exitNodes = model.nodes.filter(isExitNode);
  const document = toDocument({ ...model, nodes: model.nodes.filter((n) => !isExitNode(n)) });
  const layout = { ...document.layout };
  for (const n of exitNodes) layout[n.id] = { x: n.position.x, y: n.position.y };
  return { ...document, layout };
}

/**
 * Problems the server pins to an exit (`exits.<i>`, no node: an exit no edge leads to) drawn on
 * that exit's node, so the canvas shows where it is and picking the problem selects it.
 * @example
 * pinnedToExits([{ code: 'unreachable', field: 'exits.1', message: 'no edge leads to exit "denied"' }], [{ name: 'ok' }, { name: 'denied' }]);
 * // [{ code: 'unreachable', field: 'exits.1', node: 'denied', message: '…' }]
 */
export function pinnedToExits<P extends { node?: string | undefined; field?: string | undefined }>(problems: P[], exits: readonly Exit[]): P[] {
  return problems.map((p) => {
    const index = p.node === undefined ? /^exits\.(\d+)(\.|$)/.exec(p.field ?? '')?.[1] : undefined;
    const exit = index === undefined ? undefined : exits[Number(index)];
    return exit ? { ...p, node: exit.name } : p;
  });
}

/** Why a list of exit names cannot be a fragment's, or undefined. */
export function exitNamesProblem(names: readonly string[]): string | undefined {
  if (names.length === 0) return 'A fragment has at least one exit.';
  if (names.length > MAX_EXITS) return `At most ${MAX_EXITS} exits.`;
  const bad = names.find((n) => !exitNameSchema.safeParse(n).success);
  if (bad !== undefined) return `"${bad}": exit names are lower-case words (a-z, 0-9, "-", "_"), up to 32 characters, starting with a letter.`;
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  return twice === undefined ? undefined : `"${twice}" is named twice.`;
}

/**
 * A new fragment's first document, valid as it is: one switch node whose case per exit leads to
 * that exit (the first case always true, so requests leave by the first exit until it is redrawn);
 * its default port leads to the exit named "default" if there is one, else to the first.
 * @example
 * newFragmentDocument({ id: 'auth', name: 'Auth', exits: ['ok'] }).edges; // [{ from: 'step', port: 'ok', to: 'ok' }, { from: 'step', port: 'default', to: 'ok' }]
 */
export function newFragmentDocument({ id, name, exits }: { id: string; name: string; exits: readonly string[] }): DraftDocument {
  const names = new Set(exits);
  let step = 'step';
  for (let n = 2; names.has(step); n++) step = `step-${n}`;
  const fallback = names.has('default') ? 'default' : exits[0]!;
  const named = exits.filter((e) => e !== 'default');
  const cases = named.length > 0 ? named.map((e, i) => ({ port: e, when: i === 0 ? 'true' : 'false' })) : [{ port: 'always', when: 'true' }];
  return {
    id,
    name,
    exits: exits.map((e) => ({ name: e })),
    start: step,
    nodes: [{ id: step, kind: 'switch', label: 'Replace me', config: { cases } }],
    edges: [...cases.map((c) => ({ from: step, port: c.port, to: names.has(c.port) ? c.port : fallback })), { from: step, port: 'default', to: fallback }],
    layout: { [step]: { x: 0, y: 0 }, ...Object.fromEntries(exits.map((e, i) => [e, { x: 360, y: i * 110 }])) },
  };
}

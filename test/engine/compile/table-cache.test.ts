import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transition } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { computeTable, createWorkflowMachine, type PlaceTable } from '../../../engine/compile/machine.ts';
import { lineOf } from '../../../engine/compile/line-file.ts';
import { openTableCache, type TransitionTable } from '../../../engine/compile/table-cache.ts';
import { FAULT_STATE, finalStateName, machineLayoutOf, runAtOnce, toMachineConfig, validateWorkflow, type MachineLayout, type ValidGraph } from '../../../shared/compile/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const cacheFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tables-'));
  dirs.push(dir);
  return join(dir, 'cache', 'transition-tables.jsonl');
};

/** A condition, then two respond nodes; `second` names the node the false port goes to ('yes': the false port goes to the true port's node, and there is no third node). */
function graphOf(second = 'no'): ValidGraph {
  const document = {
    id: 'branch',
    name: 'Branch',
    route: { methods: ['GET'], path: '/branch' },
    nodes: [
      { id: 'when', kind: 'condition', config: { when: 'request.method = "GET"' } },
      { id: 'yes', kind: 'respond', config: { status: 200, body: { ok: true } } },
      ...(second === 'yes' ? [] : [{ id: second, kind: 'respond', config: { status: 404, body: { ok: false } } }]),
    ],
    edges: [
      { from: 'when', port: 'true', to: 'yes' },
      { from: 'when', port: 'false', to: second },
    ],
  };
  const result = validateWorkflow(document);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.graph;
}
const layoutOf = (graph: ValidGraph) => runAtOnce(machineLayoutOf(graph));
const shapeOf = (graph: ValidGraph) => layoutOf(graph).shape;

/** A table by place, in the workflow's state names. */
function named(layout: MachineLayout, places: PlaceTable): TransitionTable {
  const nameOf = (place: number) => (place < layout.nodes.length ? layout.nodes[place]!.id : finalStateName(layout.finals[place - layout.nodes.length]!));
  return new Map(places.map((targets, place) => [nameOf(place), new Map([...targets].map(([port, target]) => [port, nameOf(target)]))]));
}
/** The workflow's table, in its state names, computed with `cache` (or without one). */
const tableOf = async (graph: ValidGraph, cache?: Awaited<ReturnType<typeof openTableCache>>) => named(layoutOf(graph), await computeTable(shapeOf(graph), noPause, cache));
const plain = (table: TransitionTable) => [...table].map(([state, targets]) => [state, [...targets]]);
const noPause = () => undefined;

describe('transition tables', () => {
  it('are what a whole XState macrostep (transition()) reaches from each state on each port', async () => {
    const graph = graphOf();
    const table = await tableOf(graph);
    const machine = createWorkflowMachine(toMachineConfig(graph));
    for (const [state, targets] of table)
      for (const [port, target] of targets) {
        const type = port === FAULT_STATE ? `xstate.error.actor.${state}` : port;
        const [next] = transition(machine, machine.resolveState({ value: state, context: {} }), { type } as never);
        expect(next.value, `${state} on ${port}`).toBe(target);
      }
    // every port of every node state, and where the graph wires it
    expect(table.get('when')).toEqual(new Map([['true', 'yes'], ['false', 'no'], [FAULT_STATE, FAULT_STATE]]));
    expect([...table.keys()]).toEqual(['when', 'yes', 'no']);
  });

  it('are kept for the next process on the data dir, and a changed document is computed afresh', async () => {
    const file = cacheFile();
    const first = await openTableCache(file);
    const graph = graphOf();
    const computed = await tableOf(graph, first);
    await first.flush();

    const second = await openTableCache(file);
    expect(second.loaded).toEqual({ entries: 1, refused: 0 });
    const shape = shapeOf(graph);
    expect(second.get(second.keyOf(shape))).toBeDefined();
    expect(plain(await tableOf(graph, second))).toEqual(plain(computed));
    // another structure (the false port to the node of the true port): another key, nothing cached for it
    const rewired = graphOf('yes');
    const rewiredShape = shapeOf(rewired);
    expect(second.keyOf(rewiredShape)).not.toBe(second.keyOf(shape));
    expect(second.get(second.keyOf(rewiredShape))).toBeUndefined();
    expect(plain(await tableOf(rewired, second))).toEqual(plain(await tableOf(rewired)));
    expect(computed.get('when')!.get('false')).toBe('no');
    expect((await tableOf(rewired, second)).get('when')!.get('false')).toBe('yes');
    expect(second.get(second.keyOf(rewiredShape))).toBeDefined();
    await second.flush();
  });

  it('refuses a line that was altered or torn, and a table that does not fit its machine; computes it again', async () => {
    const file = cacheFile();
    const cache = await openTableCache(file);
    const graph = graphOf();
    const key = cache.keyOf(shapeOf(graph));
    await tableOf(graph, cache);
    await cache.flush();
    const line = readFileSync(file, 'utf8').trim();
    expect(line.split(' ', 2)[1]).toBe(key);

    // altered: a target swapped, the checksum left as it was
    expect(line).toContain('"s1"');
    writeFileSync(file, `${line.replace('"s1"', '"s2"')}\n`);
    appendFileSync(file, `${line.slice(0, 40)}`);
    const reopened = await openTableCache(file);
    expect(reopened.loaded).toEqual({ entries: 0, refused: 2 });
    expect(reopened.get(key)).toBeUndefined();
    expect(plain(await tableOf(graph, reopened))).toEqual(plain(await tableOf(graph)));
    await reopened.flush();

    // a line whose checksum holds but whose table lacks a port of the machine asked for (another XState, a bug)
    const wrongTable = JSON.stringify([['s0', [['true', 's1']]]]);
    writeFileSync(file, lineOf(key, wrongTable));
    const misfit = await openTableCache(file);
    expect(misfit.loaded).toEqual({ entries: 1, refused: 0 });
    expect(plain(misfit.get(key)!)).toEqual([['s0', [['true', 's1']]]]);
    expect(plain(await tableOf(graph, misfit))).toEqual(plain(await tableOf(graph)));
    expect(misfit.get(key)!.get('s0')!.size).toBe(3); // computed again: true, false and the failure
    await misfit.flush(); // its line written before the folder is removed
  });

  it('works without its file when the file cannot be written (a cache in memory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tables-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'cache'), 'a file where the folder should be');
    const cache = await openTableCache(join(dir, 'cache', 'transition-tables.jsonl'));
    const graph = graphOf();
    const table = await tableOf(graph, cache);
    await cache.flush();
    expect(cache.get(cache.keyOf(shapeOf(graph)))).toBeDefined();
    expect(plain(await tableOf(graph, cache))).toEqual(plain(table));
  });

  it('are shared by workflows of one structure whatever their node ids, each renamed to its own states', async () => {
    const file = cacheFile();
    const cache = await openTableCache(file);
    const [a, b] = [graphOf('no'), graphOf('nope')];
    expect(cache.keyOf(shapeOf(a))).toBe(cache.keyOf(shapeOf(b)));
    expect(plain(await tableOf(a, cache))).toEqual(plain(await tableOf(a)));
    expect(plain(await tableOf(b, cache))).toEqual(plain(await tableOf(b)));
    expect((await tableOf(b, cache)).get('when')!.get('false')).toBe('nope');
    await cache.flush();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

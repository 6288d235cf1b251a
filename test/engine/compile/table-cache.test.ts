import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transition } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { computeTable, createWorkflowMachine, shapeOf } from '../../../engine/compile/machine.ts';
import { openTableCache, type TransitionTable } from '../../../engine/compile/table-cache.ts';
import { FAULT_STATE, toMachineConfig, validateWorkflow, type WorkflowMachineConfig } from '../../../shared/compile/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const cacheFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tables-'));
  dirs.push(dir);
  return join(dir, 'cache', 'transition-tables.jsonl');
};

/** A condition, then two respond nodes; `second` names the node the false port goes to. */
function configOf(second = 'no'): WorkflowMachineConfig {
  const document = {
    id: 'branch',
    name: 'Branch',
    route: { methods: ['GET'], path: '/branch' },
    nodes: [
      { id: 'when', kind: 'condition', config: { when: 'request.method = "GET"' } },
      { id: 'yes', kind: 'respond', config: { status: 200, body: { ok: true } } },
      { id: second, kind: 'respond', config: { status: 404, body: { ok: false } } },
    ],
    edges: [
      { from: 'when', port: 'true', to: 'yes' },
      { from: 'when', port: 'false', to: second },
    ],
  };
  const result = validateWorkflow(document);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return toMachineConfig(result.graph);
}

const plain = (table: TransitionTable) => [...table].map(([state, targets]) => [state, [...targets]]);
const noPause = () => undefined;

describe('transition tables', () => {
  it('are what a whole XState macrostep (transition()) reaches from each state on each port', async () => {
    const config = configOf();
    const table = await computeTable(config, noPause);
    const machine = createWorkflowMachine(config);
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
    const config = configOf();
    const computed = await computeTable(config, noPause, first);
    await first.flush();

    const second = await openTableCache(file);
    expect(second.loaded).toEqual({ entries: 1, refused: 0 });
    const shape = shapeOf(config).shape;
    expect(second.get(second.keyOf(shape))).toBeDefined();
    expect(plain(await computeTable(config, noPause, second))).toEqual(plain(computed));
    // another structure (the false port to the node of the true port): another key, nothing cached for it
    const rewired = configOf();
    (rewired.states.when as { on: Record<string, string> }).on.false = 'yes';
    const rewiredShape = shapeOf(rewired).shape;
    expect(second.keyOf(rewiredShape)).not.toBe(second.keyOf(shape));
    expect(second.get(second.keyOf(rewiredShape))).toBeUndefined();
    expect(plain(await computeTable(rewired, noPause, second))).toEqual(plain(await computeTable(rewired, noPause)));
    expect(second.get(second.keyOf(rewiredShape))).toBeDefined();
    await second.flush();
  });

  it('refuses a line that was altered or torn, and a table that does not fit its machine; computes it again', async () => {
    const file = cacheFile();
    const cache = await openTableCache(file);
    const config = configOf();
    const shape = shapeOf(config).shape;
    const key = cache.keyOf(shape);
    await computeTable(config, noPause, cache);
    await cache.flush();
    const line = readFileSync(file, 'utf8').trim();
    const entry = JSON.parse(line) as { k: string; t: string; c: string };

    // altered: a target swapped, the checksum left as it was
    expect(entry.t).toContain('"s1"');
    writeFileSync(file, `${JSON.stringify({ ...entry, t: entry.t.replace('"s1"', '"s2"') })}\n`);
    appendFileSync(file, '{"k":"torn');
    const reopened = await openTableCache(file);
    expect(reopened.loaded).toEqual({ entries: 0, refused: 2 });
    expect(reopened.get(key)).toBeUndefined();
    expect(plain(await computeTable(config, noPause, reopened))).toEqual(plain(await computeTable(config, noPause)));
    await reopened.flush();

    // a line whose checksum holds but whose table lacks a port of the machine asked for (another XState, a bug)
    const wrongTable = JSON.stringify([['s0', [['true', 's1']]]]);
    const { createHash } = await import('node:crypto');
    const c = createHash('sha256').update(key).update('\n').update(wrongTable).digest('hex').slice(0, 32);
    writeFileSync(file, `${JSON.stringify({ k: key, t: wrongTable, c })}\n`);
    const misfit = await openTableCache(file);
    expect(misfit.loaded).toEqual({ entries: 1, refused: 0 });
    expect(plain(misfit.get(key)!)).toEqual([['s0', [['true', 's1']]]]);
    expect(plain(await computeTable(config, noPause, misfit))).toEqual(plain(await computeTable(config, noPause)));
    expect(misfit.get(key)!.get('s0')!.size).toBe(3); // computed again: true, false and the failure
    await misfit.flush(); // its line written before the folder is removed
  });

  it('works without its file when the file cannot be written (a cache in memory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tables-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'cache'), 'a file where the folder should be');
    const cache = await openTableCache(join(dir, 'cache', 'transition-tables.jsonl'));
    const config = configOf();
    const table = await computeTable(config, noPause, cache);
    await cache.flush();
    const shape = shapeOf(config).shape;
    expect(cache.get(cache.keyOf(shape))).toBeDefined();
    expect(plain(await computeTable(config, noPause, cache))).toEqual(plain(table));
  });

  it('are shared by workflows of one structure whatever their node ids, each renamed to its own states', async () => {
    const file = cacheFile();
    const cache = await openTableCache(file);
    const [a, b] = [configOf('no'), configOf('nope')];
    expect(cache.keyOf(shapeOf(a).shape)).toBe(cache.keyOf(shapeOf(b).shape));
    expect(plain(await computeTable(a, noPause, cache))).toEqual(plain(await computeTable(a, noPause)));
    expect(plain(await computeTable(b, noPause, cache))).toEqual(plain(await computeTable(b, noPause)));
    expect((await computeTable(b, noPause, cache)).get('when')!.get('false')).toBe('nope');
    await cache.flush();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

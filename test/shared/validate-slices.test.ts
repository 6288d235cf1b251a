import { afterEach, describe, expect, it } from 'vitest';
import { validateWorkflowSliced, type ValidationResult } from '../../shared/compile/index.ts';
import { SLICE_UNITS, type Sliced } from '../../shared/compile/slices.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../../shared/schema/index.ts';

/*
 * A server validates a document in slices (runPaced gives the event loop its turn between them),
 * so the largest document allowed never holds the loop: test/adversarial/stall.test.ts measures
 * that in a gateway. Here the same promise is counted, not timed: the work between two pauses,
 * in reads of the document's nodes and edges and in the Map and Set operations of the graph
 * checks, stays near SLICE_UNITS units however large the document is. A stage that stopped
 * pausing would do 10,000 units in one slice.
 */

const SIZE = 10_000; // the most nodes any setting allows (SLUICE_MAX_NODES tops out at 10,000)
const LIMITS = { ...DEFAULT_DOCUMENT_LIMITS, nodes: SIZE, edges: SIZE, bytes: 16 * 1024 * 1024 };

let work = 0;
/** Each read of a property of the document's nodes and edges counts one unit of work. */
const counted = <T extends object>(element: T): T =>
  new Proxy(element, {
    get(target, key, receiver) {
      work++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });

const originals = { mapGet: Map.prototype.get, mapSet: Map.prototype.set, mapHas: Map.prototype.has, setHas: Set.prototype.has, setAdd: Set.prototype.add };
/** Each Map and Set lookup or insertion counts one unit of work, while `run` runs. */
function countingCollections<T>(run: () => T): T {
  const wrap = <F extends (...args: never[]) => unknown>(original: F): F =>
    function (this: unknown, ...args: Parameters<F>) {
      work++;
      return original.apply(this, args);
    } as F;
  Map.prototype.get = wrap(originals.mapGet);
  Map.prototype.set = wrap(originals.mapSet);
  Map.prototype.has = wrap(originals.mapHas);
  Set.prototype.has = wrap(originals.setHas);
  Set.prototype.add = wrap(originals.setAdd);
  try {
    return run();
  } finally {
    restore();
  }
}
function restore() {
  Object.assign(Map.prototype, { get: originals.mapGet, set: originals.mapSet, has: originals.mapHas });
  Object.assign(Set.prototype, { has: originals.setHas, add: originals.setAdd });
}
afterEach(restore);

/** Runs sliced work to its end, counting the work of each slice. */
function slicesOf<T>(sliced: Sliced<T>): { value: T; slices: number[] } {
  const slices: number[] = [];
  return countingCollections(() => {
    for (;;) {
      const before = work;
      const step = sliced.next();
      slices.push(work - before);
      if (step.done) return { value: step.value, slices };
    }
  });
}

/** jwt-verify → scope-checks in a chain → respond, SIZE nodes in all: every stage of the checks walks all of it. */
function chain() {
  const nodes: Array<Record<string, unknown>> = [{ id: 'verify', kind: 'jwt-verify', config: { jwksUri: 'https://issuer.example/jwks.json' } }];
  for (let i = 0; i < SIZE - 2; i++) nodes.push({ id: `s${i}`, kind: 'scope-check', config: { all: ['orders:read'] } });
  nodes.push({ id: 'answer', kind: 'respond', config: {} });
  const edges = nodes.slice(1).map((n, i) => ({ from: String(nodes[i]!.id), port: 'ok', to: String(n.id) }));
  return { id: 'long', name: 'Long', route: { methods: ['GET'], path: '/long' }, nodes: nodes.map(counted), edges: edges.map(counted) };
}

describe('validation in slices', () => {
  it(`checks a document of ${SIZE.toLocaleString('en')} nodes with no slice doing more than a few times SLICE_UNITS units of work`, () => {
    const { value, slices } = slicesOf<ValidationResult>(validateWorkflowSliced(chain(), { limits: LIMITS }));
    expect(value.problems.slice(0, 3)).toEqual([]); // (a few, should it fail)
    expect(value.ok).toBe(true);
    const total = slices.reduce((a, b) => a + b, 0);
    const most = Math.max(...slices);
    console.log(`validation of ${SIZE} nodes: ${total} units of work in ${slices.length} slices, the largest ${most}`);
    expect(total).toBeGreaterThan(SIZE * 20); // every stage walked the whole chain
    expect(most).toBeLessThan(SLICE_UNITS * 16);
    // and no stage pauses at every unit: a pause costs a turn (runPaced asks the clock at each);
    // one slice per node (each node's config is parsed in a slice of its own) and a few hundred more
    expect(slices.length).toBeLessThan(SIZE * 1.5);
  });
});

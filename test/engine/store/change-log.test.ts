import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChanges, changeOf, continuation, parseChangeLines, stateText, type ChangeLine } from '../../../engine/store/change-log.ts';
import { RecordMap } from '../../../engine/store/record-map.ts';
import { freezeState, type StoreState } from '../../../engine/store/types.ts';
import type { AuditEntry } from '../../../engine/store/audit.ts';

const EMPTY: StoreState = freezeState({ format: 4, revision: 0, workflows: RecordMap.empty(), catalog: undefined, partners: {}, products: {}, plans: {} });

const entry = (seq: number): AuditEntry => ({ seq, time: 't', actor: 'a', role: 'admin', action: 'draft.save', prevHash: `p${seq}`, hash: `h${seq}` });

/** One change a transaction body may make: a record set or dropped in a map member, or a top-level member set or removed. */
type Step =
  | { kind: 'set'; member: 'workflows' | 'partners' | 'fragments'; id: string; value: number }
  | { kind: 'drop'; member: 'workflows' | 'partners' | 'fragments'; id: string }
  | { kind: 'catalog'; value: string | undefined }
  | { kind: 'refusal' };

const ids = fc.constantFrom('orders', 'billing', 'a', '__proto__', 'constructor', 'x-1');
const member = fc.constantFrom('workflows' as const, 'partners' as const, 'fragments' as const);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), member, id: ids, value: fc.integer() }),
  fc.record({ kind: fc.constant('drop' as const), member, id: ids }),
  fc.record({ kind: fc.constant('catalog' as const), value: fc.option(fc.constantFrom('c1', 'c2', 'c3'), { nil: undefined }) }) as fc.Arbitrary<Step>,
  fc.constant({ kind: 'refusal' as const }),
);

/** The next state as a transaction body builds it: a new object for what changes, the others shared. */
function next(state: StoreState, s: Step): Omit<StoreState, 'revision' | 'head'> {
  if (s.kind === 'refusal') return state;
  if (s.kind === 'catalog') return { ...state, catalog: s.value };
  if (s.member === 'workflows') return { ...state, workflows: s.kind === 'set' ? state.workflows.with(s.id, { id: s.id, value: s.value } as never) : state.workflows.without(s.id) };
  const map = { ...(state as unknown as Record<string, Record<string, unknown> | undefined>)[s.member] };
  if (s.kind === 'set') Object.defineProperty(map, s.id, { value: { id: s.id, value: s.value }, enumerable: true, writable: true, configurable: true });
  else delete map[s.id];
  return { ...state, [s.member]: map };
}

/** The state as JSON sees it: what the snapshot holds. */
const asJson = (state: StoreState) => JSON.parse(JSON.stringify(state)) as unknown;

describe('change log', () => {
  it('gives back every state of a run of changes, read as JSON lines one by one or all at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), fc.integer({ min: 0, max: 25 }), async (steps, cut) => {
        let state = EMPTY;
        const states = [state];
        const lines: string[] = [];
        for (const s of steps) {
          const e = entry(state.revision + 1);
          const after = freezeState({ ...next(state, s), revision: e.seq, head: e.hash });
          lines.push(`${JSON.stringify(changeOf(state, after, e))}\n`);
          states.push((state = after));
        }
        // the whole log on the empty state: the last state
        const all = parseChangeLines(lines.join(''));
        expect(all.bytes).toBe(Buffer.byteLength(lines.join('')));
        expect(asJson(applyChanges(EMPTY, all.lines))).toEqual(asJson(state));
        // a snapshot at any revision continued by the rest of the log: the same
        const at = Math.min(cut, steps.length);
        const snapshot = freezeState(JSON.parse(await stateText(states[at]!)) as StoreState);
        expect(snapshot).toEqual(JSON.parse(JSON.stringify(states[at])));
        const rest = continuation(all.lines, at)!;
        expect(rest.map((l) => l.entry.seq)).toEqual(steps.map((_, i) => i + 1).slice(at));
        expect(asJson(applyChanges(snapshot, rest))).toEqual(asJson(state));
        // line by line, each on the state before it
        let replayed = EMPTY;
        for (const line of all.lines) replayed = applyChanges(replayed, [line]);
        expect(asJson(replayed)).toEqual(asJson(state));
      }),
      { numRuns: 300 },
    );
  });

  it('writes only the records a change sets or drops, and shares the others', () => {
    const workflows = RecordMap.from(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`w${i}`, { id: `w${i}`, active: 1 }])));
    const before = freezeState({ ...EMPTY, revision: 1, head: 'h1', workflows } as unknown as StoreState);
    const after = freezeState({ ...before, revision: 2, head: 'h2', workflows: before.workflows.with('w7', { id: 'w7', active: 2 } as never) });
    const line = changeOf(before, after, entry(2));
    expect(line).toEqual({ entry: entry(2), maps: { workflows: { set: { w7: { id: 'w7', active: 2 } } } } });
    const applied = applyChanges(before, [line]);
    expect(applied.workflows.get('w7')).toEqual({ id: 'w7', active: 2 });
    expect(applied.workflows.get('w8')).toBe(before.workflows.get('w8')); // the same object: readers compare records by identity
    expect(applied.partners).toBe(before.partners);
    expect(Object.isFrozen(applied.workflows)).toBe(true);
    expect(applied).toMatchObject({ revision: 2, head: 'h2' });
  });

  it('reads complete lines only: a torn last line is left for later, a damaged line ends the reading there', () => {
    const line = (seq: number) => `${JSON.stringify({ entry: entry(seq) } satisfies ChangeLine)}\n`;
    const torn = parseChangeLines(`${line(1)}${line(2)}{"entry":{"seq":3`);
    expect(torn.lines.map((l) => l.entry.seq)).toEqual([1, 2]);
    expect(torn.bytes).toBe(Buffer.byteLength(`${line(1)}${line(2)}`));
    expect(torn.damaged).toBe(false);
    expect(parseChangeLines(`${line(1)}not json\n${line(3)}`)).toMatchObject({ lines: [{ entry: { seq: 1 } }], damaged: true });
    expect(parseChangeLines(`${line(1)}{"no":"entry"}\n`)).toMatchObject({ lines: [{ entry: { seq: 1 } }], damaged: true });
  });

  it('takes only lines that continue a revision one by one', () => {
    const lines = [1, 2, 3, 4].map((seq) => ({ entry: entry(seq) }));
    expect(continuation(lines, 2)!.map((l) => l.entry.seq)).toEqual([3, 4]);
    expect(continuation(lines, 4)).toEqual([]);
    expect(continuation([lines[0]!, lines[2]!], 0)).toBeUndefined();
    expect(continuation(lines.slice(2), 1)).toBeUndefined();
  });
});

import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileSubset } from '../../../../engine/kinds/support/jsonata-subset.ts';
import { seededRandom } from '../../../helpers/random.ts';

// The compiled projection subset must be indistinguishable from JSONata itself: same values, same
// sequence markers on arrays (a later expression reads them), same errors. Expressions and inputs
// are generated from a seeded random source, so a failure names a reproducible case.

const NAMES = ['a', 'b', 'c', 'id', 'orders', 'total'];

/** A random JSON-ish value: objects with a few known names, arrays often nested, empty or singleton. */
function value(rnd: () => number, depth: number): unknown {
  const r = rnd();
  if (depth <= 0 || r < 0.25) {
    const p = rnd();
    if (p < 0.3) return Math.floor(rnd() * 100);
    if (p < 0.55) return NAMES[Math.floor(rnd() * NAMES.length)];
    if (p < 0.65) return rnd() < 0.5;
    if (p < 0.75) return null;
    if (p < 0.85) return [];
    return {};
  }
  if (r < 0.6) {
    const object: Record<string, unknown> = {};
    for (const name of NAMES) if (rnd() < 0.45) object[name] = value(rnd, depth - 1);
    if (rnd() < 0.03) object._jsonata_function = true;
    return object;
  }
  const length = [0, 1, 1, 2, 3, 5][Math.floor(rnd() * 6)]!;
  return Array.from({ length }, () => value(rnd, depth - 1));
}

/** A random expression of the subset, as source text. */
function expression(rnd: () => number, depth: number): string {
  const r = rnd();
  if (depth <= 0 || r < 0.35) {
    const steps = 1 + Math.floor(rnd() * 3);
    return Array.from({ length: steps }, () => NAMES[Math.floor(rnd() * NAMES.length)]).join('.');
  }
  if (r < 0.45) return [`"s"`, '1', 'true', 'null', '2.5'][Math.floor(rnd() * 5)]!;
  if (r < 0.7) {
    const keys = NAMES.filter(() => rnd() < 0.4);
    const object = `{ ${keys.map((k) => `"${k}": ${expression(rnd, depth - 1)}`).join(', ')} }`;
    if (rnd() < 0.5) return object;
    // an object constructor as a path step: a map over the items
    return `${NAMES[Math.floor(rnd() * NAMES.length)]}${rnd() < 0.5 ? `.${NAMES[Math.floor(rnd() * NAMES.length)]}` : ''}.${object}`;
  }
  if (r < 0.85) {
    const length = Math.floor(rnd() * 4);
    return `[${Array.from({ length }, () => expression(rnd, depth - 1)).join(', ')}]`;
  }
  // what conditions are made of
  const op = ['=', '!=', '<', '<=', '>', '>=', 'in', 'and', 'or'][Math.floor(rnd() * 9)]!;
  return `(${expression(rnd, depth - 1)} ${op} ${expression(rnd, depth - 1)})`;
}

/** The value with what JSONata marks on arrays made visible; objects compared by their own keys in order. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) {
    const marks = v as unknown[] & { sequence?: boolean; cons?: boolean; keepSingleton?: boolean };
    return { array: v.map(shape), sequence: marks.sequence === true, cons: marks.cons === true, keepSingleton: marks.keepSingleton === true };
  }
  if (v !== null && typeof v === 'object') return { object: Object.keys(v).map((k) => [k, shape((v as Record<string, unknown>)[k])]) };
  return v === undefined ? { undefined: true } : v;
}

/** A deep copy that keeps the marks JSONata puts on arrays (structuredClone drops them). */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) {
    const marks = v as unknown[] & { sequence?: boolean; cons?: boolean; keepSingleton?: boolean };
    const out = v.map(copy) as typeof marks;
    if (marks.sequence) out.sequence = true;
    if (marks.keepSingleton) out.keepSingleton = true;
    if (marks.cons) Object.defineProperty(out, 'cons', { value: true });
    return out;
  }
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).map((k) => [k, copy((v as Record<string, unknown>)[k])]));
  return v;
}

async function outcome(run: () => unknown): Promise<unknown> {
  try {
    return { value: shape(await run()) };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? String(error) };
  }
}

async function agree(source: string, input: unknown, sequence: number) {
  const expr = jsonata(source, { timeout: 1000, stack: 300, sequence } as never);
  const compiled = compileSubset(expr.ast(), { timeoutMs: 1000, sequence, depth: 300 });
  expect(compiled, `${source} is in the subset`).toBeDefined();
  // jsonata may change its input (an object constructor pushes into an empty array it maps), so each gets a copy
  const expected = await outcome(() => expr.evaluate(copy(input)));
  const actual = await outcome(() => compiled!(copy(input)));
  expect(actual, `${source} on ${JSON.stringify(input)} (sequence bound ${sequence})`).toEqual(expected);
}

describe('the compiled JSONata subset', () => {
  it('gives what JSONata gives for the bench transform and typical reshapings', async () => {
    const input = { partner: 'acme', response: { status: 200, body: { orders: [{ id: 1, total: 42 }, { id: 2, total: 7, extra: true }] } } };
    const one = { partner: 'acme', response: { status: 200, body: { orders: [{ id: 1, total: 42 }] } } };
    const none = { partner: 'acme', response: { status: 200, body: { orders: [] } } };
    for (const source of [
      '{ "partner": partner, "items": [response.body.orders.{ "id": id, "total": total }] }',
      '{ "items": response.body.orders.{ "id": id } }',
      'response.body.orders.id',
      '[response.body.orders.id]',
      'response.body.orders',
      '{ "status": response.status, "missing": response.nothing, "nested": { "p": partner } }',
      '[[response.body.orders.id], "x", 1, null, false]',
      'response.status = 200 and partner in ["acme", "globex"]',
      'response.body.orders.total > 10 or response.status != 200',
      '"acme" in response.body.orders.id',
      '(response.status; partner)',
    ])
      for (const data of [input, one, none]) await agree(source, data, 100_000);
    const compiled = compileSubset(jsonata('{ "partner": partner, "items": [response.body.orders.{ "id": id, "total": total }] }').ast(), { timeoutMs: 50, sequence: 100_000, depth: 300 })!;
    expect(JSON.stringify(compiled(one))).toBe('{"partner":"acme","items":[{"id":1,"total":42}]}');
  });

  it('agrees with JSONata on 3,000 generated expressions and inputs, errors included', async () => {
    const rnd = seededRandom(20261129);
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const source = expression(rnd, 3);
      let input = value(rnd, 5);
      // a later transform reads what an earlier one made: sequences and constructed arrays among the data
      if (rnd() < 0.3) {
        // (an array constructor as a path's last step, outside the subset, makes arrays marked `cons`)
        const source = rnd() < 0.5 ? expression(rnd, 3) : `${NAMES[Math.floor(rnd() * NAMES.length)]}.[${expression(rnd, 2)}, ${expression(rnd, 2)}]`;
        const earlier = await jsonata(source).evaluate(value(rnd, 5)).catch(() => undefined);
        input = { a: earlier, b: input, c: [earlier, input] };
      }
      const bound = rnd() < 0.2 ? 1 + Math.floor(rnd() * 4) : 100_000;
      await agree(source, input, bound);
      try {
        compileSubset(jsonata(source).ast(), { timeoutMs: 1000, sequence: bound, depth: 300 })!(copy(input));
      } catch {
        errors++;
      }
    }
    // small bounds and comparisons of what cannot be compared make some evaluations fail: errors were compared too
    expect(errors).toBeGreaterThan(20);
  });

  it('leaves everything outside the subset to JSONata', () => {
    const limits = { timeoutMs: 50, sequence: 100_000, depth: 300 };
    for (const source of [
      'a[0]',
      'a[id = 1]',
      '$.a',
      'a + 1',
      '"x" & a',
      '$string(a)',
      'a ? b : c',
      'a.*',
      'a.**.b',
      '{ a: b }',
      'a{ "k": b }',
      '{ "__proto__": a }',
      '{ "k": a, "k": b }',
      '($x := 1; $x)',
      'a^(b)',
      'a#$i',
      'a@$o',
      'function($x) { $x }',
      'a.[b, c]',
      '[a, b][0]',
      '-a',
      'a - b',
      'a & b',
      'a ~> $string()',
    ])
      expect(compileSubset(jsonata(source).ast(), limits), source).toBeUndefined();
    // bounds JSONata reads differently (zero means none) are left to it as well
    expect(compileSubset(jsonata('a').ast(), { ...limits, sequence: 0 })).toBeUndefined();
    expect(compileSubset(jsonata('a').ast(), { ...limits, timeoutMs: 0 })).toBeUndefined();
  });

  it('stops an evaluation that runs past the time bound, as JSONata does', () => {
    const big = { a: Array.from({ length: 200_000 }, (_, i) => ({ b: Array.from({ length: 4 }, () => ({ c: i })) })) };
    const compiled = compileSubset(jsonata('a.b.c').ast(), { timeoutMs: 1, sequence: 10_000_000, depth: 300 })!;
    expect(() => compiled(big)).toThrow(expect.objectContaining({ code: 'D1012' }));
  });
});

/**
 * JSONata as the expression workers run it: linear-time regexes, and the built-ins that can build
 * in one step a string far larger than their input (`$pad("", 9e6, "ab")` took 4.3 s, `$join` of
 * 100k references to one long string, `$string` of the same) bounded by the size of what they
 * build, checked before building where the size is known. JSONata checks its time bound only
 * between steps; these bounds keep each step small, and the worker's deadline stops the rest.
 */
import jsonata from 'jsonata';
import { LinearRegExp } from './linear-regex.ts';

/** Bounds of one evaluation in a worker. */
export interface EvaluationLimits {
  /** JSONata's own time bound, checked between steps. */
  timeoutMs: number;
  depth: number;
  sequence: number;
  /** Largest string one function call may build, in characters. */
  stringChars: number;
  /** Largest result, in characters of its JSON (estimated). */
  resultChars: number;
}

/**
 * Whether a value's JSON would be longer than `budget` characters, estimated without building
 * it: iterative (a deeply nested body cannot overflow the stack) and stopping as soon as the
 * budget is spent (a cyclic value, or one string referenced a million times, spends it too).
 */
export function exceeds(value: unknown, budget: number): boolean {
  if (typeof value === 'string') return value.length > budget;
  if (typeof value !== 'object' || value === null) return false;
  let left = budget;
  // members that are objects wait on the stack; strings and scalars are counted where they are met
  const stack: object[] = [value];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (ArrayBuffer.isView(v)) left -= v.byteLength;
    else if (Array.isArray(v)) {
      left -= v.length + 2;
      for (let i = 0; i < v.length; i++) {
        const member: unknown = v[i];
        if (typeof member === 'string') left -= member.length + 2;
        else if (typeof member === 'object' && member !== null) stack.push(member);
        else left -= 8;
        if (left < 0) return true;
      }
    } else {
      left -= 2;
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        const member: unknown = (v as Record<string, unknown>)[key];
        left -= key.length + 4;
        if (typeof member === 'string') left -= member.length + 2;
        else if (typeof member === 'object' && member !== null) stack.push(member);
        else left -= 8;
      }
    }
    if (left < 0) return true;
  }
  return false;
}

/** A JSONata native function, as `defineFunction` makes them (the signature parsed). */
interface NativeFunction {
  _jsonata_function: true;
  implementation: (this: unknown, ...args: never[]) => unknown;
  signature?: unknown;
}

/** The built-ins some bound wraps, and JSONata's own implementation of each. */
export type Builtins = Record<'string' | 'replace' | 'clone' | 'pad' | 'join', NativeFunction>;

/** JSONata's own built-ins (their implementation and parsed signature), read once per worker. */
export async function loadBuiltins(): Promise<Builtins> {
  const names = ['string', 'replace', 'clone', 'pad', 'join'] as const;
  const found = await Promise.all(names.map((name) => jsonata(`$${name}`).evaluate({}) as Promise<NativeFunction>));
  return Object.fromEntries(names.map((name, i) => [name, found[i]!])) as Builtins;
}

/** The error a size bound throws, shaped as JSONata's own (a code, a message). */
function tooLarge(what: string, size: number, max: number): never {
  throw Object.assign(new Error(`${what} would build ${size} characters, more than the ${max} allowed`), { code: 'result too large' });
}

/** Code points in a string, as JSONata's `$length` counts them. */
function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++, count++) {
    // a high surrogate followed by a low one is one code point past 0xffff; a lone one counts alone
    if (text.codePointAt(i)! > 0xffff) i++;
  }
  return count;
}

/**
 * The bounded replacements of the growing built-ins, each with JSONata's own signature. `$pad`
 * and `$join` are written anew (JSONata's $pad splits its whole padding into code points: 4.3 s
 * for 9 million), the others call JSONata's implementation after or around the check.
 */
function boundedBuiltins(builtins: Builtins, limits: EvaluationLimits): Record<string, NativeFunction> {
  const max = limits.stringChars;
  const wrap = (original: NativeFunction, implementation: NativeFunction['implementation']): NativeFunction => ({ ...original, implementation });
  return {
    pad: wrap(builtins.pad, function pad(str: string | undefined, width: number, char: string | undefined) {
      if (str === undefined) return undefined;
      const unit = char === undefined || char.length === 0 ? ' ' : char;
      const whole = Math.trunc(width);
      const padLength = Math.abs(whole) - codePoints(str);
      if (!(padLength > 0)) return str;
      if (padLength + str.length > max) tooLarge('$pad', padLength + str.length, max);
      const unitPoints = codePoints(unit);
      const times = Math.floor(padLength / unitPoints);
      let padding = unit.repeat(times);
      // the rest, in code points of the unit, as JSONata's substring cuts it
      if (padLength > times * unitPoints) padding += Array.from(unit).slice(0, padLength - times * unitPoints).join('');
      return whole > 0 ? str + padding : padding + str;
    } as never),
    join: wrap(builtins.join, function join(strs: string[] | undefined, separator: string | undefined) {
      if (strs === undefined) return undefined;
      const glue = separator ?? '';
      let size = Math.max(0, strs.length - 1) * glue.length;
      for (const s of strs) size += s.length;
      if (size > max) tooLarge('$join', size, max);
      return strs.join(glue);
    } as never),
    string: wrap(builtins.string, function string(this: unknown, arg: unknown, prettify?: boolean) {
      if (typeof arg !== 'string' && exceeds(arg, prettify ? max / 2 : max)) tooLarge('$string', max + 1, max);
      const result = builtins.string.implementation.call(this, arg as never, prettify as never) as string | undefined;
      if (result !== undefined && result.length > max) tooLarge('$string', result.length, max);
      return result;
    } as never),
    clone: wrap(builtins.clone, function clone(this: unknown, arg: unknown) {
      if (exceeds(arg, max)) tooLarge('$clone', max + 1, max);
      return builtins.clone.implementation.call(this, arg as never);
    } as never),
    // Replacements append to a rope, cheap per match; the total is measured once built.
    replace: wrap(builtins.replace, async function replace(this: unknown, ...args: unknown[]) {
      const result = (await builtins.replace.implementation.apply(this, args as never[])) as string | undefined;
      if (result !== undefined && result.length > max) tooLarge('$replace', result.length, max);
      return result;
    } as never),
  };
}

/** An expression compiled for a worker: evaluate gives the result or throws JSONata's error. */
export interface BoundedJsonata {
  evaluate(input: unknown): Promise<unknown>;
}

/**
 * Compiles an expression with every bound: JSONata's time, depth and sequence bounds, regexes
 * on RE2, the growing built-ins bounded by `stringChars`, and the result by `resultChars`.
 * @example
 * const builtins = await loadBuiltins();
 * await compileBounded('$pad("", 1e9)', limits, builtins).evaluate({}); // throws { code: 'result too large' }
 */
export function compileBounded(source: string, limits: EvaluationLimits, builtins: Builtins): BoundedJsonata {
  const expression = jsonata(source, { timeout: limits.timeoutMs, stack: limits.depth, sequence: limits.sequence, RegexEngine: LinearRegExp as unknown as RegExpConstructor });
  for (const [name, fn] of Object.entries(boundedBuiltins(builtins, limits))) expression.assign(name, fn);
  return {
    async evaluate(input) {
      const result = await expression.evaluate(input);
      if (exceeds(result, limits.resultChars)) throw Object.assign(new Error(`the result is larger than ${limits.resultChars} characters`), { code: 'result too large' });
      return result;
    },
  };
}

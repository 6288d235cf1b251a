/**
 * JSONata's regex literals (`/^([a-z]+)+$/i`) run on RE2 (re2js), whose matching time is linear
 * in the input, instead of V8's backtracking engine, where `/^([a-z]+)+$/` on 29 "a"s and a "!"
 * takes 20 s in one step that no timeout can interrupt.
 *
 * JSONata hands its RegexEngine option the RegExp its parser made (flags `g` plus `i`/`m`) and
 * uses only `lastIndex` and `exec`; `LinearRegExp` offers exactly that. The JavaScript pattern
 * is translated so that it means the same on RE2: `.` and `\s` are spelled out as JavaScript
 * defines them, `\b` in a class is a backspace, `(?<name>` becomes `(?P<name>`. What RE2 cannot
 * do in linear time (backreferences, lookahead, lookbehind) and escapes whose meaning differs
 * (`\p{…}`, `\z`, `\k`…) are refused with a message saying why; `regexProblem` gives it at publish.
 */
import { RE2JS } from 're2js';

/** What `\s` matches in JavaScript (RE2's `\s` is ASCII whitespace only). */
const JS_SPACE = '\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
/** What `.` matches in JavaScript without the `s` flag (JSONata allows only `i` and `m`). */
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';
/** Escapes that mean the same in both engines. */
const SAME = new Set(['d', 'D', 'w', 'W', 'B', 't', 'n', 'r', 'f', 'v']);

/** A pattern RE2 cannot run as JavaScript would; the message says what and why. */
class Unsupported extends Error {}

const hex = (text: string, from: number, count: number) => {
  const digits = text.slice(from, from + count);
  return digits.length === count && /^[0-9a-fA-F]+$/.test(digits) ? parseInt(digits, 16) : undefined;
};

/** One code point as an RE2 escape: safe in and out of classes. */
const codePoint = (cp: number) => `\\x{${cp.toString(16)}}`;

/**
 * The escape at `source[i]` (a backslash) in RE2 syntax, and how many characters it spans.
 * `inClass`: inside `[...]`, where `\b` is a backspace and a negated class cannot be nested.
 */
function translateEscape(source: string, i: number, inClass: boolean): [string, number] {
  const next = source[i + 1];
  if (next === undefined) throw new Unsupported('a pattern cannot end with a backslash');
  if (SAME.has(next)) return [`\\${next}`, 2];
  switch (next) {
    case 'b':
      return [inClass ? '\\x{8}' : '\\b', 2];
    case 's':
      return [inClass ? JS_SPACE : `[${JS_SPACE}]`, 2];
    case 'S':
      if (inClass) throw new Unsupported('\\S inside [...] is not supported; use [^\\s...] instead');
      return [`[^${JS_SPACE}]`, 2];
    case '0':
      if (/[0-9]/.test(source[i + 2] ?? '')) throw new Unsupported('octal escapes (\\0 followed by a digit) are not supported');
      return ['\\x{0}', 2];
    case 'x': {
      const value = hex(source, i + 2, 2);
      return value === undefined ? ['x', 2] : [codePoint(value), 4];
    }
    case 'u': {
      const value = hex(source, i + 2, 4);
      if (value === undefined) return ['u', 2];
      if (value >= 0xd800 && value <= 0xdbff && source[i + 6] === '\\' && source[i + 7] === 'u') {
        const low = hex(source, i + 8, 4);
        if (low !== undefined && low >= 0xdc00 && low <= 0xdfff) return [codePoint(0x10000 + ((value - 0xd800) << 10) + (low - 0xdc00)), 12];
      }
      if (value >= 0xd800 && value <= 0xdfff) throw new Unsupported('a lone surrogate (\\uD800-\\uDFFF) is not supported');
      return [codePoint(value), 6];
    }
    case 'c': {
      const letter = source[i + 2] ?? '';
      if (/[A-Za-z]/.test(letter)) return [codePoint(letter.charCodeAt(0) % 32), 3];
      throw new Unsupported('\\c must be followed by a letter');
    }
    case 'k':
      throw new Unsupported('backreferences (\\k<name>) need backtracking, which the linear-time engine does not do');
  }
  if (/[1-9]/.test(next)) throw new Unsupported(`backreferences (\\${next}) need backtracking, which the linear-time engine does not do`);
  if (/[A-Za-z0-9_]/.test(next)) throw new Unsupported(`the escape \\${next} is not supported (in JavaScript it means "${next}"; write ${next})`);
  // escaped punctuation or any other character: itself, literally
  const cp = source.codePointAt(i + 1)!;
  return [cp < 0x80 ? `\\${next}` : codePoint(cp), cp > 0xffff ? 3 : 2];
}

/** A JavaScript pattern (as JSONata's parser accepted it, so well-formed for JavaScript) in RE2 syntax. */
function translate(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const [text, length] = translateEscape(source, i, false);
      out += text;
      i += length;
    } else if (c === '[') {
      i++;
      let negated = false;
      if (source[i] === '^') {
        negated = true;
        i++;
      }
      // JavaScript closes a class at a first "]": [] matches nothing, [^] any character
      if (source[i] === ']') {
        out += negated ? '[\\x{0}-\\x{10FFFF}]' : '[^\\x{0}-\\x{10FFFF}]';
        i++;
        continue;
      }
      let members = '';
      while (i < source.length && source[i] !== ']') {
        const m = source[i]!;
        if (m === '\\') {
          const [text, length] = translateEscape(source, i, true);
          members += text;
          i += length;
        } else {
          // "[" opens POSIX classes ([:alpha:]) in RE2; in JavaScript it is itself
          members += m === '[' ? '\\[' : m;
          i++;
        }
      }
      i++; // the closing "]"
      out += `[${negated ? '^' : ''}${members}]`;
    } else if (c === '(' && source[i + 1] === '?') {
      const kind = source[i + 2];
      if (kind === '=' || kind === '!') throw new Unsupported('lookahead ((?= or (?!) needs backtracking, which the linear-time engine does not do');
      if (kind === '<' && (source[i + 3] === '=' || source[i + 3] === '!')) throw new Unsupported('lookbehind ((?<= or (?<!) is not supported by the linear-time engine');
      if (kind === '<') {
        out += '(?P<';
        i += 3;
      } else {
        out += '(?';
        i += 2;
      }
    } else if (c === '.') {
      out += JS_DOT;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Regexes compiled once per RegExp object of an AST. */
const compiled = new WeakMap<RegExp, RE2JS>();

/**
 * The RE2 form of a JSONata regex literal, compiled once.
 * @throws an Error (code `regex unsupported`) saying why the pattern cannot run in linear time
 */
function linearFor(re: RegExp): RE2JS {
  let result = compiled.get(re);
  if (result !== undefined) return result;
  try {
    const flags = (re.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) | (re.multiline ? RE2JS.MULTILINE : 0);
    result = RE2JS.compile(translate(re.source), flags);
  } catch (error) {
    const why = error instanceof Unsupported ? error.message : `RE2 refuses it: ${(error as Error).message}`;
    throw Object.assign(new Error(`the regex /${re.source}/ cannot run on the linear-time engine: ${why}`), { code: 'regex unsupported' });
  }
  compiled.set(re, result);
  return result;
}

/**
 * Why a regex literal cannot run on the linear-time engine, or undefined when it can (it is then
 * compiled and kept for its evaluations).
 * @example
 * regexProblem(/(a)\1/g); // 'the regex /(a)\1/ cannot run on the linear-time engine: backreferences (\1) need backtracking, …'
 */
export function regexProblem(re: RegExp): string | undefined {
  try {
    linearFor(re);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The problems of every regex literal in a JSONata AST (as `jsonata(source).ast()` gives it). */
export function regexProblemsOf(ast: unknown): string[] {
  const problems: string[] = [];
  const seen = new Set<object>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (node instanceof RegExp) {
      const problem = regexProblem(node);
      if (problem !== undefined) problems.push(problem);
      return;
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(ast);
  return problems;
}

/**
 * A RegExp as JSONata uses one (`lastIndex`, `exec`), matching on RE2 in linear time. Given as
 * JSONata's `RegexEngine` option: `new LinearRegExp(regexFromTheAst)`.
 */
export class LinearRegExp {
  lastIndex = 0;
  readonly #re2: RE2JS;
  #input: string | undefined;
  #matcher: ReturnType<RE2JS['matcher']> | undefined;

  constructor(re: RegExp) {
    this.#re2 = linearFor(re);
  }

  get source(): string {
    return this.#re2.pattern();
  }

  /** As RegExp.prototype.exec with the `g` flag: searches from `lastIndex`, then moves it past the match. */
  exec(text: string): RegExpExecArray | null {
    const input = String(text);
    const from = this.lastIndex;
    if (from > input.length) {
      this.lastIndex = 0;
      return null;
    }
    // JSONata walks one string's matches in turn: one matcher serves them all
    if (this.#input !== input || this.#matcher === undefined) {
      this.#matcher = this.#re2.matcher(input);
      this.#input = input;
    }
    const matcher = this.#matcher;
    if (!matcher.find(from)) {
      this.lastIndex = 0;
      return null;
    }
    const match = [matcher.group(0) ?? ''] as unknown as RegExpExecArray;
    const groups = matcher.groupCount();
    for (let g = 1; g <= groups; g++) match.push(matcher.group(g) ?? (undefined as unknown as string));
    match.index = matcher.start(0);
    match.input = input;
    this.lastIndex = matcher.end(0);
    return match;
  }
}

/**
 * The projection subset of JSONata — literals, paths of field names, object constructors with
 * literal keys, array constructors, parentheses, and the comparisons and boolean operators
 * conditions are made of (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `and`, `or`) — compiled to plain
 * synchronous functions at publish time.
 *
 * JSONata 2 evaluates every AST node as an async function: a typical response reshaping
 * (`{ "items": [orders.{ "id": id }] }`) costs dozens of promise hops per request. Expressions of
 * this subset, the common case of transforms, are instead turned into closures that mirror
 * jsonata.js's own algorithm step by step (evaluate's sequence unwrapping, evaluatePath,
 * evaluateStep's flattening, lookup, evaluateGroupExpression, the array constructor, append,
 * evaluateBinary with isDeepEqual and $boolean; the steps themselves are in
 * jsonata-subset-evaluation.ts), so they give the same result, the same sequence markers and the
 * same errors (the sequence bound, comparing what cannot be compared). Anything else in an
 * expression (a predicate, an operator, a function, a variable…) leaves the whole expression to
 * JSONata. test/engine/kinds/support/jsonata-subset.test.ts checks the two agree on generated inputs.
 */

import { append, boolize, compare, evaluateStep, isDeepEqual, isJsonataFunction, isSequence, lookup, push, sequenceOf, settle, tick, type Evaluate, type Run } from './jsonata-subset-evaluation.ts';

type Ast = { type: string; value?: unknown; position?: number; [member: string]: unknown };

/** The members each node of the subset may have: one more (a predicate, a group, a focus…) is outside it. */
const MEMBERS: Record<string, ReadonlySet<string>> = {
  literal: new Set(['type', 'value', 'position']),
  name: new Set(['type', 'value', 'position']),
  path: new Set(['type', 'steps', 'position']),
  object: new Set(['type', 'value', 'position', 'lhs']),
  array: new Set(['type', 'value', 'position', 'expressions', 'consarray']),
  binary: new Set(['type', 'value', 'position', 'lhs', 'rhs']),
  block: new Set(['type', 'position', 'expressions']),
};

/** The binary operators of the subset (jsonata.js evaluateBinary, lhs always evaluated first). */
function compileBinary(op: string, lhs: Evaluate, rhs: Evaluate): Evaluate | undefined {
  switch (op) {
    case 'and':
      return (input, run) => boolize(lhs(input, run)) && boolize(rhs(input, run));
    case 'or':
      return (input, run) => boolize(lhs(input, run)) || boolize(rhs(input, run));
    case '=':
    case '!=': {
      const equal = op === '=';
      return (input, run) => {
        const l = lhs(input, run);
        const r = rhs(input, run);
        if (l === undefined || r === undefined) return false;
        return isDeepEqual(l, r) === equal;
      };
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
      return (input, run) => {
        const l = lhs(input, run);
        return compare(l, rhs(input, run), op);
      };
    case 'in':
      return (input, run) => {
        const l = lhs(input, run);
        const r = rhs(input, run);
        if (l === undefined || r === undefined) return false;
        const members = Array.isArray(r) ? r : [r];
        for (let i = 0; i < members.length; i++) if (members[i] === l) return true;
        return false;
      };
    default:
      return undefined;
  }
}

/** Keys an object constructor may not make here: JSONata refuses two, and `__proto__` would set a prototype. */
const FORBIDDEN_KEYS = new Set(['_jsonata_lambda', '_jsonata_function', '__proto__']);

/** Deeper expressions are left to JSONata, whose depth bound they might reach. */
const MAX_DEPTH = 32;

/** Own members only: the parser's nodes inherit its token's (id, lbp, nud). */
function hasOnly(node: Ast, allowed: ReadonlySet<string>): boolean {
  for (const member of Object.keys(node)) if (!allowed.has(member)) return false;
  return true;
}

/** Compiles one AST node of the subset, or undefined when it (or a part of it) is outside. */
function compileNode(node: Ast, depth: number): Evaluate | undefined {
  if (depth > MAX_DEPTH || node === null || typeof node !== 'object') return undefined;
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      if (!hasOnly(node, MEMBERS.literal!)) return undefined;
      const value = node.value;
      return () => value;
    }
    case 'path':
      return hasOnly(node, MEMBERS.path!) ? compilePath(node.steps as Ast[], depth) : undefined;
    case 'unary':
      if (node.value === '{') return hasOnly(node, MEMBERS.object!) ? compileObject(node.lhs as Array<[Ast, Ast]>, depth) : undefined;
      if (node.value === '[') return hasOnly(node, MEMBERS.array!) ? compileArray(node.expressions as Ast[], node.consarray === true, depth) : undefined;
      return undefined;
    case 'block': {
      // parentheses: each expression in turn, the last one's value (no variable can be bound in the subset)
      if (!hasOnly(node, MEMBERS.block!) || !Array.isArray(node.expressions) || node.expressions.length === 0) return undefined;
      const parts: Evaluate[] = [];
      for (const expression of node.expressions as Ast[]) {
        const part = compileNode(expression, depth + 1);
        if (part === undefined) return undefined;
        parts.push(part);
      }
      if (parts.length === 1) return parts[0];
      return (input, run) => {
        let result: unknown;
        for (const part of parts) result = part(input, run);
        return settle(result);
      };
    }
    case 'binary': {
      if (!hasOnly(node, MEMBERS.binary!) || typeof node.value !== 'string') return undefined;
      const lhs = compileNode(node.lhs as Ast, depth + 1);
      const rhs = lhs && compileNode(node.rhs as Ast, depth + 1);
      return rhs && compileBinary(node.value, lhs!, rhs);
    }
    default:
      return undefined;
  }
}

/** A path of names, each later step a name or an object constructor (`orders.{ "id": id }`). */
function compilePath(steps: Ast[], depth: number): Evaluate | undefined {
  if (!Array.isArray(steps) || steps.length === 0) return undefined;
  const compiled: Evaluate[] = [];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (step?.type === 'name') {
      if (!hasOnly(step, MEMBERS.name!) || typeof step.value !== 'string') return undefined;
      const key = step.value;
      compiled.push((input, run) => settle(lookup(run, input, key)));
    } else if (i > 0 && step?.type === 'unary' && step.value === '{') {
      const object = compileNode(step, depth + 1);
      if (object === undefined) return undefined;
      compiled.push(object);
    } else return undefined;
  }
  const last = compiled.length - 1;
  const names = steps.every((step) => step.type === 'name') ? steps.map((step) => step.value as string) : undefined;
  // jsonata.js evaluatePath (the first step is never a variable here, so an array input is the sequence)
  const general: Evaluate = (input, run) => {
    let items: unknown[] = Array.isArray(input) ? input : sequenceOf(run, input);
    let result: unknown[] = items;
    for (let i = 0; i <= last; i++) {
      result = evaluateStep(compiled[i]!, items, run, i === last);
      if (result.length === 0) break;
      items = result;
    }
    return settle(result);
  };
  if (names === undefined) return general;
  // A path of names through objects only (no array on the way, the common case) makes no
  // sequence: each step is the field itself. An array anywhere hands over to the general walk,
  // which starts again from the input (evaluation changes nothing, so starting again is safe).
  return (input, run) => {
    let value = input;
    for (let i = 0; i < names.length; i++) {
      if (Array.isArray(value)) return general(input, run);
      if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, names[i]!) || isJsonataFunction(value)) return undefined;
      value = (value as Record<string, unknown>)[names[i]!];
      if (value === undefined) return undefined;
    }
    return Array.isArray(value) ? general(input, run) : value;
  };
}

/** An object constructor with literal, distinct keys (jsonata.js evaluateGroupExpression). */
function compileObject(pairs: Array<[Ast, Ast]>, depth: number): Evaluate | undefined {
  if (!Array.isArray(pairs)) return undefined;
  const keys: string[] = [];
  const values: Evaluate[] = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    const [keyNode, valueNode] = pair;
    if (keyNode?.type !== 'string' || !hasOnly(keyNode, MEMBERS.literal!) || typeof keyNode.value !== 'string') return undefined;
    if (FORBIDDEN_KEYS.has(keyNode.value) || keys.includes(keyNode.value)) return undefined;
    const value = compileNode(valueNode, depth + 1);
    if (value === undefined) return undefined;
    keys.push(keyNode.value);
    values.push(value);
  }
  return (input, run) => {
    const result: Record<string, unknown> = {};
    if (!Array.isArray(input)) {
      // one item (jsonata.js wraps it in a sequence of one): every key's group is the input itself
      for (let k = 0; k < keys.length; k++) {
        const value = values[k]!(input, run);
        if (value !== undefined) result[keys[k]!] = value;
      }
      return result;
    }
    const items: unknown[] = input;
    // as jsonata.js does, to the very array it was given: an empty input still makes the object
    if (items.length === 0) push(run, items, undefined);
    // every key is a literal, so every item belongs to every key's group
    let data: unknown = items[0];
    for (let i = 1; i < items.length; i++) {
      tick(run);
      data = append(run, data, items[i]);
    }
    for (let k = 0; k < keys.length; k++) {
      const value = values[k]!(data, run);
      if (value !== undefined) result[keys[k]!] = value;
    }
    return result;
  };
}

/** An array constructor (jsonata.js evaluateUnary '['): items appended, nested constructors kept whole. */
function compileArray(expressions: Ast[], consarray: boolean, depth: number): Evaluate | undefined {
  if (!Array.isArray(expressions)) return undefined;
  const items: Array<{ evaluate: Evaluate; keep: boolean }> = [];
  for (const expression of expressions) {
    const evaluate = compileNode(expression, depth + 1);
    if (evaluate === undefined) return undefined;
    items.push({ evaluate, keep: expression.value === '[' });
  }
  return (input, run) => {
    let result: unknown = [];
    for (const item of items) {
      const value = item.evaluate(input, run);
      if (value === undefined) continue;
      if (item.keep) (result as unknown[]).push(value);
      else result = append(run, result, value);
    }
    if (consarray) Object.defineProperty(result, 'cons', { enumerable: false, configurable: false, value: true });
    return settle(result);
  };
}

/** What the compiled form of an expression needs: its bounds. */
export interface SubsetLimits {
  timeoutMs: number;
  sequence: number;
  /** JSONata's depth bound: an expression of the subset nests at most 2 × MAX_DEPTH evaluations deep. */
  depth: number;
}

/**
 * The expression's AST (as `jsonata(source).ast()` gives it) compiled to a synchronous function,
 * or undefined when the expression is not in the projection subset. The function throws what
 * JSONata would throw for an over-long sequence (code D2015) or an evaluation past the time bound
 * (D1012).
 * @example
 * const shape = compileSubset(jsonata('{ "ids": [orders.id] }').ast(), { timeoutMs: 50, sequence: 100_000, depth: 300 });
 * shape?.({ orders: [{ id: 1 }, { id: 2 }] }); // { ids: [1, 2] }
 */
export function compileSubset(ast: unknown, limits: SubsetLimits): ((input: unknown) => unknown) | undefined {
  // JSONata treats a zero bound as none (and its append then refuses everything): left to JSONata
  if (!(limits.sequence >= 1) || !(limits.timeoutMs > 0) || !(limits.depth >= 2 * MAX_DEPTH + 4)) return undefined;
  const evaluate = compileNode(ast as Ast, 0);
  if (evaluate === undefined) return undefined;
  const { sequence: limit, timeoutMs } = limits;
  return (input) => {
    const run: Run = { limit, deadline: performance.now() + timeoutMs, timeoutMs, work: 0 };
    // as jsonata.js's evaluate does: an array given as the input is one item, not a sequence of them
    return evaluate(Array.isArray(input) && !isSequence(input) ? sequenceOf(run, input) : input, run);
  };
}

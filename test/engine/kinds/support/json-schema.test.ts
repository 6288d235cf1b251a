import { describe, expect, it } from 'vitest';
import { compileFieldValidator, runsLinearlyOnV8 } from '../../../../engine/kinds/support/json-schema.ts';

/**
 * The JSON Schema keyword families validate-request relies on, each with a value it accepts and
 * one it refuses (and the pointer it names), through the compiled standalone code that runs per
 * request.
 */
const FAMILIES: Array<{ family: string; schema: Record<string, unknown>; valid: unknown[]; invalid: Array<[value: unknown, pointer: string, detail: RegExp]> }> = [
  { family: 'type', schema: { type: 'object', properties: { n: { type: 'number' }, s: { type: ['string', 'null'] } } }, valid: [{ n: 1.5, s: null }, {}], invalid: [[{ n: '1' }, '/n', /must be number/], [[], '', /must be object/]] },
  { family: 'enum and const', schema: { type: 'object', properties: { tier: { enum: ['gold', 'silver'] }, v: { const: 2 } } }, valid: [{ tier: 'gold', v: 2 }], invalid: [[{ tier: 'bronze' }, '/tier', /allowed values/], [{ v: 3 }, '/v', /constant/]] },
  { family: 'numbers', schema: { type: 'object', properties: { q: { type: 'integer', minimum: 1, exclusiveMaximum: 10, multipleOf: 2 } } }, valid: [{ q: 2 }, { q: 8 }], invalid: [[{ q: 0 }, '/q', />= 1/], [{ q: 10 }, '/q', /< 10/], [{ q: 3 }, '/q', /multiple of 2/], [{ q: 2.5 }, '/q', /integer/]] },
  { family: 'strings', schema: { type: 'object', properties: { s: { type: 'string', minLength: 2, maxLength: 4, pattern: '^[a-z]+$' } } }, valid: [{ s: 'ab' }, { s: 'abcd' }], invalid: [[{ s: 'a' }, '/s', /fewer than 2/], [{ s: 'abcde' }, '/s', /more than 4/], [{ s: 'AB' }, '/s', /must match pattern/]] },
  { family: 'formats', schema: { type: 'object', properties: { at: { type: 'string', format: 'date-time' }, id: { type: 'string', format: 'uuid' }, site: { type: 'string', format: 'uri' } } }, valid: [{ at: '2026-12-03T10:00:00Z', id: '123e4567-e89b-12d3-a456-426614174000', site: 'https://a.example/x' }], invalid: [[{ at: 'yesterday' }, '/at', /format "date-time"/], [{ id: 'x-1' }, '/id', /format "uuid"/]] },
  { family: 'arrays', schema: { type: 'array', minItems: 1, maxItems: 3, items: { type: 'integer' }, uniqueItems: true, contains: { const: 1 } }, valid: [[1], [1, 2, 3]], invalid: [[[], '', /fewer than 1/], [[1, 2, 3, 4], '', /more than 3/], [[1, 1], '', /duplicate items/], [[2, 'x'], '/1', /integer/], [[2], '', /contain at least 1/]] },
  { family: 'objects', schema: { type: 'object', required: ['a'], properties: { a: {} }, additionalProperties: false, minProperties: 1, propertyNames: { pattern: '^[a-c]$' }, dependentRequired: { b: ['c'] } }, valid: [{ a: 1 }], invalid: [[{}, '/a', /is required/], [{ a: 1, z: 2 }, '/z', /not allowed/], [{ a: 1, b: 1 }, '/b', /is not allowed/]] },
  { family: 'composition', schema: { type: 'object', properties: { x: { anyOf: [{ type: 'string' }, { type: 'integer' }] }, y: { oneOf: [{ minimum: 0 }, { maximum: 10 }] }, z: { not: { const: 'forbidden' } }, w: { allOf: [{ minLength: 1 }, { maxLength: 2 }] } } }, valid: [{ x: 'a', y: 20, z: 'ok', w: 'ab' }], invalid: [[{ x: true }, '/x', /anyOf/], [{ y: 5 }, '/y', /exactly one/], [{ z: 'forbidden' }, '/z', /must NOT be valid/], [{ w: 'abc' }, '/w', /more than 2/]] },
  // oxlint-disable-next-line unicorn/no-thenable -- `then` is JSON Schema's keyword here, in data, not a promise
  { family: 'conditionals', schema: { type: 'object', if: { properties: { kind: { const: 'card' } } }, then: { required: ['last4'] }, else: { required: ['iban'] } }, valid: [{ kind: 'card', last4: '4242' }, { kind: 'bank', iban: 'DE00' }], invalid: [[{ kind: 'card' }, '/last4', /is required/], [{ kind: 'bank' }, '/iban', /is required/]] },
  { family: 'references', schema: { $defs: { money: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } } }, type: 'object', properties: { total: { $ref: '#/$defs/money' } } }, valid: [{ total: { amount: 3 } }], invalid: [[{ total: {} }, '/total/amount', /is required/], [{ total: { amount: 'x' } }, '/total/amount', /number/]] },
];

describe('JSON Schema validators for untrusted requests', () => {
  it.each(FAMILIES)('$family: accepts the valid values and names the failing field of the invalid ones', async ({ schema, valid, invalid }) => {
    const validate = await compileFieldValidator(schema, { coerce: false });
    for (const value of valid) expect(validate(value, ''), JSON.stringify(value)).toEqual([]);
    for (const [value, pointer, detail] of invalid) expect(validate(value, ''), JSON.stringify(value)).toContainEqual({ pointer, detail: expect.stringMatching(detail) });
  });

  it('reads numbers and booleans from text when coercing, on a copy', async () => {
    const validate = await compileFieldValidator({ type: 'object', properties: { limit: { type: 'integer' }, all: { type: 'boolean' } } }, { coerce: true });
    const query = { limit: '5', all: 'true' };
    expect(validate(query, '/query')).toEqual([]);
    expect(query).toEqual({ limit: '5', all: 'true' });
    expect(validate({ limit: 'five' }, '/query')).toEqual([{ pointer: '/query/limit', detail: 'must be integer' }]);
  });

  it('refuses what cannot run safely on untrusted input, saying why', async () => {
    await expect(compileFieldValidator({ type: 'string', pattern: '(a)\\1' }, { coerce: false })).rejects.toThrow(/cannot run on the linear-time engine/);
    await expect(compileFieldValidator({ type: 'array', uniqueItems: true, maxItems: 100_000 }, { coerce: false })).rejects.toThrow(/needs maxItems of at most 1000/);
    await expect(compileFieldValidator({ $ref: 'file:///etc/passwd' }, { coerce: false })).rejects.toThrow(/can't resolve reference/);
    await expect(compileFieldValidator({ type: 'strin' }, { coerce: false })).rejects.toThrow(/must be equal to one of the allowed values|type/);
  });

  it.each([
    ['^Bearer [A-Za-z0-9._-]+$', true],
    ['^[A-Z]{3}-[0-9]{4}$', true],
    ['^ord-[0-9]+$', true],
    ['^(?:eu|us)-[a-z]+$', true],
    ['^\\d+\\.\\d+$', false], // two long repetitions: O(n^2) backtracking on "1111…"
    ['^(a+)+$', false],
    ['^(a|aa)+$', false],
    ['^(ab){2,5}$', false],
    ['[a-z]+x', false], // not anchored: every start position
    ['^a+|b+c', false], // the second alternative is not anchored
    ['^(a)\\1$', false],
    ['^(?=a)a', false],
    ['^[+*]+$', true], // quantifier characters inside a class are characters
    ['^a{1,1000}b{1,1000}$', false],
  ])('runs %s on V8: %s (else RE2)', (pattern, linear) => {
    expect(runsLinearlyOnV8(pattern)).toBe(linear);
  });

  it('matches JavaScript\'s meaning on either engine (\\s, ., classes), and keeps a backtracking pattern linear', async () => {
    const validate = await compileFieldValidator({ type: 'object', properties: { a: { type: 'string', pattern: '^\\s*x.y\\s*$' }, b: { type: 'string', pattern: '^(a+)+$' } } }, { coerce: false });
    expect(validate({ a: '\u00a0x-y\u3000', b: 'aaaa' }, '')).toEqual([]);
    expect(validate({ a: 'x\ny' }, '')).toEqual([{ pointer: '/a', detail: 'must match pattern "^\\s*x.y\\s*$"' }]);
    expect(validate({ b: `${'a'.repeat(40)}!` }, '')).toEqual([{ pointer: '/b', detail: 'must match pattern "^(a+)+$"' }]);
  });
});

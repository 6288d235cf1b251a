import { describe, expect, it } from 'vitest';
import { CATEGORIES, isKindName, kindErrorIds, kinds, type KindName } from '../../shared/nodes/index.ts';
import { mentionsBody } from '../../shared/nodes/kind.ts';
import { errorIdSchema } from '../../shared/schema/index.ts';

// What each kind's descriptor says (configs, ports, errors) is tested with its runtime, in test/engine/kinds/<kind>.test.ts.
const kindNames = Object.keys(kinds) as KindName[];

describe('the kind registry', () => {
  it.each(kindNames)('%s is registered under its own name, with palette texts', (kind) => {
    const d = kinds[kind];
    expect(d.kind).toBe(kind);
    expect(isKindName(kind)).toBe(true);
    expect(CATEGORIES).toContain(d.category);
    expect(d.title).not.toBe('');
    expect(d.description).not.toBe('');
    for (const id of d.errors) expect(errorIdSchema.safeParse(id).success).toBe(true);
  });

  it.each(['constructor', 'toString', '__proto__', 'jwt', ''])('%j is no kind', (name) => {
    expect(isKindName(name)).toBe(false);
  });

  it('kindErrorIds lists every declared error once', () => {
    const ids = kindErrorIds();
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(kindNames.flatMap((k) => kinds[k].errors)));
  });
});

describe('mentionsBody (does an expression make the gateway buffer the request body?)', () => {
  it.each([
    ['request.body.total > 10', true],
    ['request.body', true],
    ['request.*', true],
    ['request.$string()', true],
    ['$r := request; $r.total', true],
    ['$keys(request)', true],
    ['request.**.total', true],
    ['request.headers.%.body', true],
    ['$', true],
    ['$$.request', true],
    ['$.request.path', true],
    ['request.path', false],
    ['request.method = "GET" and request.headers.accept = "json"', false],
    ['request . params.id', false],
    ['$uppercase(request.query.q)', false],
    ['claims.sub & partner', false],
    ['"orders:admin" in scopes', false],
  ])('%s -> %s', (source, reads) => {
    expect(mentionsBody([{ field: 'when', source }])).toBe(reads);
  });

});

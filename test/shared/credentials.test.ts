import { describe, expect, it } from 'vitest';
import { storedCredentialProblems } from '../../shared/compile/index.ts';

/* Which typed values a stored test or sample may hold: a table of headers, flagged or not. */

const doc = (headers: Record<string, string>, query?: Record<string, string>) => ({
  nodes: [{ id: 'k', kind: 'api-key', config: { header: 'X-Partner', query: 'key' } }],
  tests: [{ name: 't', request: { method: 'GET', path: '/', headers, ...(query ? { query } : {}) }, expect: { status: 200 } }],
});

describe('storedCredentialProblems', () => {
  it.each([
    ['authorization', 'Bearer abc'],
    ['Authorization', 'Basic dXNlcjpwYXNz'],
    ['proxy-authorization', 'anything'],
    ['cookie', 'a=b'],
    ['x-api-key', 'k'],
    ['api-key', 'k'],
    ['x-partner', 'the header the api-key node reads, whatever its case'],
    ['x-forwarded', 'bearer abc.def'],
    ['x-token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig'],
    ['x-key', 'sk_abcd1234_secretpart'],
  ])('flags %s: %s', (name, value) => {
    expect(storedCredentialProblems(doc({ [name]: value }))).toEqual([{ code: 'invalid_document', message: expect.any(String), field: `tests.0.request.headers.${name}` }]);
  });

  it.each([
    ['accept', 'application/json'],
    ['x-request-id', 'token-1234'],
    ['content-type', 'application/json'],
    ['x-note', 'bearer'],
    ['authorization', ''],
  ])('lets %s: %s pass', (name, value) => {
    expect(storedCredentialProblems(doc({ [name]: value }))).toEqual([]);
  });

  it('flags the api-key node\'s query parameter and credential-shaped query values', () => {
    expect(storedCredentialProblems(doc({}, { key: 'k', page: '2', other: 'sk_abcd1234_x' })).map((p) => p.field)).toEqual(['tests.0.request.query.key', 'tests.0.request.query.other']);
  });

  it('reads samples too, and a half-drawn document without throwing', () => {
    expect(storedCredentialProblems({ samples: [{ request: { headers: { cookie: 'a' } } }] }).map((p) => p.field)).toEqual(['samples.0.request.headers.cookie']);
    for (const odd of [null, 1, 'x', { tests: 'x' }, { tests: [null, { request: 5 }] }, { nodes: [null, { kind: 'api-key', config: null }] }]) expect(storedCredentialProblems(odd)).toEqual([]);
  });
});

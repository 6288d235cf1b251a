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

describe('storedCredentialProblems: signed requests and introspected tokens', () => {
  const signed = (headers: Record<string, string>, config: Record<string, unknown> = {}) => ({
    nodes: [{ id: 's', kind: 'hmac-verify', config }],
    tests: [{ name: 't', request: { method: 'POST', path: '/', headers }, expect: { status: 200 } }],
  });

  it.each([
    ['the hmac-verify node\'s default header', {}, 'signature', 'anything at all'],
    ['the hmac-verify node\'s own header, whatever its case', { header: 'X-Signature' }, 'x-signature', 'anything at all'],
    ['a signature-shaped value in any header', {}, 'x-webhook', 'keyId=hk_1,ts=1796385600,sig=d30ef83872b4d224e3a6cdee8e904b75'],
  ])('flags %s', (_name, config, header, value) => {
    expect(storedCredentialProblems(signed({ [header]: value }, config)).map((p) => [p.field, p.message])).toEqual([[`tests.0.request.headers.${header}`, expect.stringMatching(/request\.hmac/)]]);
  });

  it('an introspect node\'s own header is a credential', () => {
    const doc = { nodes: [{ id: 'i', kind: 'introspect', config: { header: 'X-Access-Token' } }], samples: [{ request: { headers: { 'x-access-token': 'opaque' } } }] };
    expect(storedCredentialProblems(doc).map((p) => p.field)).toEqual(['samples.0.request.headers.x-access-token']);
  });

  it('lets a header named signature pass where no hmac-verify node reads it, and short sig= values', () => {
    expect(storedCredentialProblems({ nodes: [], tests: [{ request: { headers: { signature: 'a note', 'x-q': 'sig=abc' } } }] })).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { portsOf } from '../../editor/src/graph/ports.ts';
import { kinds } from '../../shared/nodes/index.ts';

/** A valid config per kind, for comparing with the descriptors' own ports(). */
const VALID: Record<keyof typeof kinds, Record<string, unknown>> = {
  cors: { origins: ['https://app.example.com'] },
  'validate-request': { body: { type: 'object' } },
  'prompt-guard': { detectors: { email: 'redact' } },
  'http-call': { name: 'profile', url: 'https://profiles.example/v1' },
  'cache-lookup': { name: 'orders' },
  'cache-store': { name: 'orders' },
  'jwt-verify': { jwksFile: 'k.json' },
  'api-key': {},
  'client-cert': {},
  'hmac-verify': {},
  introspect: { endpoint: 'https://login.example.com/introspect', clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_AS' },
  'scope-check': { all: ['a'] },
  condition: { when: 'true' },
  subflow: { fragment: 'auth', exits: ['ok'] },
  switch: { cases: [{ port: 'eu', when: 'x' }, { port: 'us', when: 'y' }] },
  'mcp-tool': { tools: [{ name: 'delete_file', port: 'delete' }, { name: 'read_file', port: 'read' }, { name: 'rm', port: 'delete' }] },
  'rate-limit': { limit: 1 },
  'transform-request': {},
  'transform-response': {},
  proxy: { url: 'http://x' },
  respond: {},
  error: { error: 'forbidden' },
};

describe('ports of a node (editor/src/graph/ports.ts)', () => {
  it.each(Object.keys(kinds) as Array<keyof typeof kinds>)('%s: a valid config gets exactly its descriptor\'s ports', (kind) => {
    const descriptor = kinds[kind] as { config: { parse(v: unknown): unknown }; ports(c: unknown): unknown };
    expect(portsOf(kind, VALID[kind])).toEqual(descriptor.ports(descriptor.config.parse(VALID[kind])));
  });

  it.each([
    ['switch with no cases yet', 'switch', {}, ['default']],
    ['switch with a half-written case', 'switch', { cases: [{ port: 'eu' }, { when: 'x' }, { port: '' }] }, ['eu', 'default']],
    ['switch with a repeated port', 'switch', { cases: [{ port: 'a', when: 'x' }, { port: 'a', when: 'y' }] }, ['a', 'default']],
    ['switch naming a case "default"', 'switch', { cases: [{ port: 'default', when: 'x' }] }, ['default']],
    ['jwt-verify without a key source', 'jwt-verify', {}, ['ok', 'missing', 'invalid', 'unavailable', 'suspended', 'unsubscribed']],
    ['introspect without an endpoint or client', 'introspect', {}, ['ok', 'missing', 'invalid', 'unavailable', 'suspended', 'unsubscribed']],
    ['client-cert with the default matches', 'client-cert', {}, ['ok', 'missing', 'invalid', 'suspended', 'unsubscribed']],
    ['rate-limit without a limit', 'rate-limit', {}, ['ok', 'limited', 'unavailable']],
    ['error without an error id', 'error', {}, ['raise']],
    ['subflow with its fragment\'s exits', 'subflow', { fragment: 'auth', exits: ['ok', 'denied'] }, ['ok', 'denied']],
    ['subflow before a fragment is chosen', 'subflow', {}, []],
    ['subflow with exits, its fragment not chosen yet', 'subflow', { exits: ['ok'] }, ['ok']],
    ['subflow with a blank, a repeated and a non-text exit', 'subflow', { fragment: 'auth', exits: ['ok', '', 'ok', 3, 'denied'] }, ['ok', 'denied']],
    ['subflow whose exits are not a list', 'subflow', { fragment: 'auth', exits: 'ok' }, []],
    ['an unknown kind', 'no-such-kind', {}, []],
  ])('%s', (_name, kind, config, names) => {
    expect(portsOf(kind, config).map((p) => p.name)).toEqual(names);
  });

  it('answers the same array for the same config object, so memoised nodes keep their handles', () => {
    const config = { cases: [{ port: 'eu', when: 'x' }] };
    expect(portsOf('switch', config)).toBe(portsOf('switch', config));
    expect(portsOf('switch', { ...config })).not.toBe(portsOf('switch', config));
  });
});

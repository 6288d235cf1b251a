import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kinds, type KindName } from '../../../shared/nodes/index.ts';
import { REPO } from '../../helpers/gateway.ts';

/**
 * What the integration tests in this folder cover, per kind: every port and every catalog error.
 * A kind that gains a port or an error fails here until a test covers it and this table says so.
 */
const COVERED: Record<KindName, { file: string; config: unknown; ports: string[]; errors: string[] }> = {
  'jwt-verify': { file: 'jwt-verify.test.ts', config: { jwksUri: 'https://keys.example/jwks.json' }, ports: ['ok', 'missing', 'invalid', 'unavailable', 'suspended', 'unsubscribed'], errors: ['missing_token', 'invalid_token', 'keys_unavailable', 'partner_suspended', 'product_not_subscribed'] },
  'api-key': { file: 'api-key.test.ts', config: {}, ports: ['ok', 'missing', 'invalid', 'suspended', 'unsubscribed'], errors: ['missing_api_key', 'invalid_api_key', 'partner_suspended', 'product_not_subscribed'] },
  'scope-check': { file: 'scope-check.test.ts', config: { all: ['a'] }, ports: ['ok', 'denied'], errors: ['insufficient_scope'] },
  condition: { file: 'flow.test.ts', config: { when: 'true' }, ports: ['true', 'false'], errors: ['expression_failed'] },
  switch: { file: 'flow.test.ts', config: { cases: [{ port: 'gold', when: 'true' }] }, ports: ['gold', 'default'], errors: ['expression_failed'] },
  'rate-limit': { file: 'rate-limit.test.ts', config: { limit: 1 }, ports: ['ok', 'limited', 'unavailable'], errors: ['rate_limited', 'rate_limit_unavailable', 'expression_failed'] },
  'transform-request': { file: 'transforms.test.ts', config: {}, ports: ['ok', 'error'], errors: ['transform_failed'] },
  'transform-response': { file: 'transforms.test.ts', config: {}, ports: ['ok', 'error'], errors: ['transform_failed'] },
  proxy: { file: 'proxy.test.ts', config: { url: 'http://upstream.example' }, ports: ['ok', 'error', 'timeout'], errors: ['upstream_unavailable', 'upstream_timeout'] },
  respond: { file: 'answer.test.ts', config: {}, ports: ['done'], errors: ['expression_failed'] },
  error: { file: 'answer.test.ts', config: { error: 'order_not_visible' }, ports: ['raise'], errors: [] },
};

describe('node-kind coverage of the integration tests', () => {
  const catalog = JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')) as { errors: Record<string, unknown> };

  it.each(Object.keys(kinds) as KindName[])('%s: every port and every declared error has a test', (kind) => {
    const covered = COVERED[kind];
    const descriptor = kinds[kind];
    const config = descriptor.config.parse(covered.config);
    expect(descriptor.ports(config as never).map((p) => p.name).sort()).toEqual([...covered.ports].sort());
    expect([...descriptor.errors].sort()).toEqual([...covered.errors].sort());
    for (const id of covered.errors) expect(Object.keys(catalog.errors)).toContain(id);
    expect(existsSync(join(import.meta.dirname, covered.file))).toBe(true);
  });
});

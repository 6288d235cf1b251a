import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDemoToken } from '../../engine/demo/keys.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe('the embedded default (examples)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('answers 401 problem+json without a token', async () => {
    const res = await gw.fetch('/api/orders');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.type).toMatch(/missing-token$/);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers 200 reshaped by transform-response with a demo token', async () => {
    const token = await signDemoToken(gw.dataDir, { sub: 'alice', scopes: ['orders:read'], partner: 'acme' });
    const res = await gw.fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { partner: string; items: Array<Record<string, unknown>> };
    expect(body.partner).toBe('acme');
    expect(body.items.length).toBe(3);
    expect(body.items[0]).not.toHaveProperty('internalNote');
  });

  it('answers 403 naming the missing scope', async () => {
    const token = await signDemoToken(gw.dataDir, { sub: 'bob', partner: 'acme' });
    const res = await gw.fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { detail: string };
    expect(body.detail).toContain('orders:read');
  });
});

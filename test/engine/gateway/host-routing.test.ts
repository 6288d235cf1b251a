import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { portNode, workflow } from '../../helpers/workflow.ts';
import { adminOf, startAdminGateway, type Admin } from '../admin/support.ts';

/** A GET with the Host header given (fetch may not set it). */
function get(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Routes on host and header, published through the admin API and served over HTTP. */
describe('routes by host and header', () => {
  let gw: TestGateway;
  let admin: Admin;
  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(() => gw?.close());

  const publish = async (id: string, route: Record<string, unknown>) => {
    const document = { ...workflow(id, { path: '/catalog' }, [portNode('answer', id)]), route: { methods: ['GET'], path: '/catalog', ...route } };
    expect((await admin('editor', 'POST', '/workflows', { document })).status).toBe(201);
    return admin('publisher', 'POST', `/workflows/${id}/publish`);
  };

  it('serves one path from several workflows, told apart by Host and header, and refuses a tie at publish', async () => {
    expect((await publish('catalog-any', {})).status).toBe(200);
    expect((await publish('catalog-eu', { hosts: ['*.eu.example.com'] })).status).toBe(200);
    expect((await publish('catalog-beta', { headers: { 'x-channel': 'beta' } })).status).toBe(200);
    const tie = await publish('catalog-eu-2', { hosts: ['shop.eu.example.com', '*.eu.example.com'] });
    expect(tie.status).toBe(422);
    expect(tie.body.problems).toEqual([expect.objectContaining({ code: 'route_clash', message: expect.stringContaining('catalog-eu') })]);

    const port = async (headers: Record<string, string>) => JSON.parse((await get(gw.url, '/catalog', headers)).body).port;
    expect(await port({ host: 'shop.eu.example.com' })).toBe('catalog-eu');
    expect(await port({ host: 'shop.us.example.com' })).toBe('catalog-any');
    expect(await port({ host: 'shop.eu.example.com', 'x-channel': 'beta' })).toBe('catalog-beta');
  });
});

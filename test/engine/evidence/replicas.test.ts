import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceRecord } from '../../../shared/admin/index.ts';
import { clickhouseAvailable, startOwnedClickHouse, type OwnedClickHouse } from '../../helpers/clickhouse.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, startAdminGateway, until } from '../admin/support.ts';

/*
 * Evidence at scale: two gateways (replicas) with CLICKHOUSE_URL write to one ClickHouse, and a
 * query on either sees the requests both served.
 */

const available = clickhouseAvailable();

describe.skipIf(!available)('evidence in ClickHouse, shared by replicas', () => {
  let clickhouse: OwnedClickHouse;
  const gateways: TestGateway[] = [];
  const database = `sluice_replicas_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    clickhouse = await startOwnedClickHouse();
    for (let i = 0; i < 2; i++) gateways.push(await startAdminGateway({ settings: { CLICKHOUSE_URL: `${clickhouse.url}/${database}` } }));
    for (const gw of gateways) {
      const admin = adminOf(gw.url);
      await admin('editor', 'POST', '/workflows', { document: { id: 'hello', name: 'Hello', route: { methods: ['GET'], path: '/hello' }, nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { hello: true } } }], edges: [] } });
      expect((await admin('publisher', 'POST', '/workflows/hello/publish')).status).toBe(200);
    }
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await clickhouse?.close();
  });

  it('a query on one replica sees the requests every replica served', async () => {
    const from = Date.now() - 1_000;
    for (const gw of gateways) for (let i = 0; i < 3; i++) expect((await gw.fetch('/hello')).status).toBe(200);
    const admin = adminOf(gateways[0]!.url);
    const records = await until('both replicas\' requests in ClickHouse', async () => {
      const { body } = await admin<{ records: EvidenceRecord[] }>('auditor', 'GET', `/evidence?workflow=hello&from=${from}&limit=100`);
      return body.records?.length === 6 ? body.records : undefined;
    });
    const replicas = new Set(records.map((r) => r.replica));
    expect(replicas.size).toBe(2);
    expect(records.every((r) => r.nodes.join() === 'answer:done' && r.version === 1)).toBe(true);
    const counted = await adminOf(gateways[1]!.url)('viewer', 'GET', `/evidence/aggregate?workflow=hello&from=${from}&by=replica`);
    expect(counted.body.groups.map((g: { count: number }) => g.count)).toEqual([3, 3]);
  });
});

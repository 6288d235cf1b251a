import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDirectory, createAdminClient } from '../../../engine/admin/client.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { PEOPLE, stamped, startAdminGateway } from './support.ts';

/* `sluice apply`: every workflow file of a directory as a draft, published through the admin API. */

describe('applyDirectory', () => {
  let gw: TestGateway;
  let dir: string;
  beforeAll(async () => {
    gw = await startAdminGateway();
    dir = mkdtempSync(join(tmpdir(), 'sluice-apply-'));
    writeFileSync(join(dir, 'a-good.json'), JSON.stringify(stamped('good', '/good', 'v1')));
    writeFileSync(join(dir, 'b-broken.json'), JSON.stringify({ ...stamped('broken', '/broken', 'v1'), edges: [{ from: 'answer', port: 'next', to: 'nowhere' }] }));
    writeFileSync(join(dir, 'c-not-json.json'), '{');
    writeFileSync(join(dir, 'd-no-id.json'), JSON.stringify({ name: 'no id' }));
  });
  afterAll(() => gw.close());

  it('publishes what is new, leaves what serves alone, and reports each refusal with its problems', async () => {
    const client = createAdminClient(gw.url, PEOPLE.admin.token);
    const first = await applyDirectory(client, dir);
    expect(first.map((r) => [r.file, r.workflow, r.outcome, r.version])).toEqual([
      ['a-good.json', 'good', 'published', 1],
      ['b-broken.json', 'broken', 'refused', undefined],
      ['c-not-json.json', undefined, 'refused', undefined],
      ['d-no-id.json', undefined, 'refused', undefined],
    ]);
    expect(first[1]!.message).toMatch(/problem/);
    expect(first[1]!.problems!.length).toBeGreaterThan(0);
    expect(first[2]!.message).toMatch(/^not JSON/);
    expect((await gw.fetch('/good')).status).toBe(200);
    const second = await applyDirectory(client, dir);
    expect(second[0]).toMatchObject({ workflow: 'good', outcome: 'unchanged', version: 1 });
  });
});

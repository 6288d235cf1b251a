import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../engine/config.ts';
import { startSluice, type Sluice } from '../../../engine/server.ts';
import { storedDocument } from '../../../engine/store/audit.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';
import { REPO } from '../../helpers/gateway.ts';
import { portNode, workflow } from '../../helpers/workflow.ts';

/*
 * A data directory from before partners: its errors.json and its stored catalog lack
 * partner_suspended and product_not_subscribed, which api-key and jwt-verify now declare. On
 * start the gateway adds them (one audited catalog change), so its workflows keep serving.
 */
describe('a store whose catalog predates the partner errors', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-upgrade-'));
  let sluice: Sluice | undefined;
  afterAll(async () => {
    await sluice?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gets them on start, audited, and its api-key workflow serves', async () => {
    const examples = JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')) as { errors: Record<string, unknown> };
    const { partner_suspended: _a, product_not_subscribed: _b, ...older } = examples.errors;
    const oldCatalog = { errors: older };
    writeFileSync(join(dataDir, 'errors.json'), JSON.stringify(oldCatalog));
    const store = await openFileStore(join(dataDir, 'store'));
    // as an older gateway stored it (today's putCatalog would refuse it)
    const stored = storedDocument(oldCatalog);
    const { hash } = stored;
    await store.transact((state) => ({ state: { ...state, catalog: hash }, documents: [stored], entry: { time: new Date().toISOString(), actor: 'old', role: 'admin', action: 'catalog.update', documentHash: hash }, result: undefined }));
    await store.close();
    mkdirSync(join(dataDir, 'workflows'));
    writeFileSync(join(dataDir, 'workflows', 'keyed.json'), JSON.stringify(workflow('keyed', { path: '/keyed' }, [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }, portNode('answer')], [['key', 'ok', 'answer']])));

    const settings = loadSettings({ PORT: '0', HOST: '127.0.0.1', SLUICE_DATA: dataDir, SLUICE_DEMO: 'off', SLUICE_ADMIN_TOKENS: 'ada:admin:admin-token-0123456789abcdef' });
    sluice = await startSluice(settings, { logger: pino({ level: 'silent' }) });
    expect(sluice.registry.active.has('keyed')).toBe(true);
    const res = await fetch(`${sluice.url}/keyed`);
    expect(res.status).toBe(401);
    const audit = await sluice.store.audit();
    expect(audit.filter((e) => e.action === 'catalog.update').map((e) => e.actor)).toEqual(['old', 'system']);
    const catalog = (await (await fetch(`${sluice.url}/admin/api/errors`, { headers: { authorization: 'Bearer admin-token-0123456789abcdef' } })).json()) as { errors: Record<string, { status: number }> };
    expect(catalog.errors.partner_suspended?.status).toBe(403);
    expect(catalog.errors.product_not_subscribed?.status).toBe(403);
  });
});

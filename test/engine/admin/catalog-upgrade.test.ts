import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStoredCatalog, readCatalogFile } from '../../../engine/sources/error-catalog.ts';
import { createStoredCatalogs } from '../../../engine/store/catalogs.ts';
import type { ErrorCatalog } from '../../../shared/schema/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, startAdminGateway, type Admin } from './support.ts';

/*
 * A store whose catalog was written before a node kind existed (cors and its cors_rejected) gets
 * that kind's errors at start, as one audited change, so the new kind can be used at once; a
 * catalog that lacks nothing is left alone.
 */
describe('the stored catalog after an upgrade', () => {
  let gw: TestGateway;
  let admin: Admin;
  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(() => gw.close());

  const ensure = () => {
    const catalogs = createStoredCatalogs(gw.sluice.store);
    const put = (catalog: ErrorCatalog) => gw.sluice.lifecycle.putCatalog({ name: 'system', role: 'admin' }, catalog);
    return ensureStoredCatalog({ store: gw.sluice.store, catalogs, dataDirCatalog: readCatalogFile(join(gw.dataDir, 'errors.json')), put });
  };

  it('adds a kind\'s errors that the stored catalog lacks, and nothing when it lacks none', async () => {
    const current = (await admin('viewer', 'GET', '/errors')).body as ErrorCatalog;
    const { cors_rejected: _dropped, ...older } = current.errors;
    expect((await admin('publisher', 'PUT', '/errors', { ...current, errors: older })).status).toBe(200);
    expect(Object.keys(((await admin('viewer', 'GET', '/errors')).body as ErrorCatalog).errors)).not.toContain('cors_rejected');

    await ensure();
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    const upgraded = (await admin('viewer', 'GET', '/errors')).body as ErrorCatalog;
    expect(upgraded.errors.cors_rejected).toMatchObject({ status: 403 });
    const revision = (await gw.sluice.store.state()).revision;
    await ensure();
    expect((await gw.sluice.store.state()).revision).toBe(revision);
  });
});

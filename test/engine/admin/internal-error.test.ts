import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEndpoint } from '../../../engine/admin/http/endpoint.ts';
import { createEndpointCalls } from '../../../engine/admin/http/calls.ts';
import { mountEndpoints } from '../../../engine/admin/http/mount.ts';
import { createProblemRenderer } from '../../../engine/gateway/problem.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';
import type { Store } from '../../../engine/store/types.ts';
import { DEFAULT_DOCUMENT_LIMITS, errorCatalogSchema } from '../../../shared/schema/index.ts';
import { REPO } from '../../helpers/gateway.ts';

/*
 * An admin call that fails inside (a bug, not a refusal) answers a 500 problem with only a trace
 * id, and the log line under that trace id says what failed: the failure is never lost.
 */
describe('an internal error of an admin call', () => {
  const logs: Array<Record<string, unknown>> = [];
  let store: Store;
  let server: ReturnType<express.Express['listen']>;
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    store = await openFileStore(mkdtempSync(join(tmpdir(), 'sluice-admin-500-')));
    const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));
    const failing = defineEndpoint({
      method: 'get', path: '/fails', permission: 'read', summary: 'Fails inside', response: z.object({}),
      handler: () => Promise.reject(new Error('the index was out of range at secret-free place 42')),
    });
    const calls = createEndpointCalls({ store, appliedRevision: () => 0 });
    const router = mountEndpoints([failing], {
      calls,
      authenticate: async () => ({ name: 'vera', role: 'viewer' }),
      problems: () => createProblemRenderer(catalog),
      limits: DEFAULT_DOCUMENT_LIMITS,
      logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
    });
    close = calls.close;
    const app = express();
    app.use('/admin/api', router);
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await close?.();
    server?.close();
    await store?.close();
  });

  it('answers 500 with a trace id and logs the error under that trace id', async () => {
    const res = await fetch(`${url}/admin/api/fails`, { headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { traceId: string; detail: string };
    expect(body.detail).not.toContain('out of range');
    const line = logs.find((l) => l.msg === 'admin call failed');
    expect(line).toMatchObject({ level: 50, traceId: body.traceId, method: 'GET', instance: '/admin/api/fails', err: { message: expect.stringContaining('out of range') } });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeBy } from '../../helpers/metrics.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { portNode, startGateway, workflow } from '../../helpers/workflow.ts';
import { ADMIN_TOKENS, PEOPLE } from '../admin/support.ts';

/*
 * The time each node took, as the metrics count it, against the request's own time as the request
 * log measured it: every node ran within the request, so the nodes' times add up to no more than
 * it, and each took some time. No wall-clock bound: the gateway's two measurements held together.
 */
describe('node durations', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(
      [workflow('timed', { path: '/timed' }, [{ id: 'check', kind: 'condition', config: { when: 'request.query.x = "1"' } }, portNode('yes'), portNode('no')], [['check', 'true', 'yes'], ['check', 'false', 'no']])],
      { settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, LOG_LEVEL: 'info' } },
    );
  });
  afterAll(() => gw?.close());

  it('each node of a request took some time, and all of them no more than the request', async () => {
    expect((await gw.fetch('/timed?x=1')).status).toBe(200);
    const logged = () => gw.logs.find((l) => l.msg === 'request' && l.workflow === 'timed');
    await expect.poll(logged).toBeDefined();
    const line = logged()!;
    const requestSeconds = (line.ms as number) / 1000;
    const sums = await scrapeBy(gw, PEOPLE.admin.token, 'sluice_node_duration_seconds_sum', { workflow: 'timed' }, 'node');
    const counts = await scrapeBy(gw, PEOPLE.admin.token, 'sluice_node_duration_seconds_count', { workflow: 'timed' }, 'node');
    expect(counts).toMatchObject({ check: 1, yes: 1 });
    expect(counts.no ?? 0).toBe(0);
    expect(sums.check).toBeGreaterThan(0);
    expect(sums.yes).toBeGreaterThan(0);
    // the log rounds to the microsecond
    expect(sums.check! + sums.yes!).toBeLessThanOrEqual(requestSeconds + 1e-6);
  });
});

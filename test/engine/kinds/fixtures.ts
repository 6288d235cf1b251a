import type { TestGateway } from '../../helpers/gateway.ts';
import { freePort } from '../../helpers/redis.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { startGateway, type NodeDoc } from '../../helpers/workflow.ts';

/** Expressions that fail at run time, each a different way out of bounds: a kind that evaluates one must answer expression_failed. */
export const FAILING_EXPRESSIONS = [
  { name: '$error()', source: '$error("boom")' },
  { name: 'infinite tail recursion (time bound)', source: '($f := function($n) { $f($n + 1) }; $f(0))' },
  { name: 'deep recursion (depth bound)', source: '($f := function($n) { 1 + $f($n + 1) }; $f(0) > 0)' },
  { name: 'a huge sequence (size bound)', source: '$count([1..10000000]) > 0' },
  { name: 'a type error', source: '"a" + 1 = 2' },
];

/** An http URL on 127.0.0.1 where nothing listens. */
export async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/** A proxy node that calls the test upstream (the UPSTREAM variable of startWithUpstream). */
export const PROXY_TO_UPSTREAM: NodeDoc = { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } };

/** A test upstream, and a gateway serving `workflows` with UPSTREAM set to its URL. */
export async function startWithUpstream(workflows: Array<{ id: string }>): Promise<{ gw: TestGateway; upstream: TestUpstream }> {
  const upstream = await startUpstream();
  try {
    return { gw: await startGateway(workflows, { env: { UPSTREAM: upstream.url } }), upstream };
  } catch (error) {
    await upstream.close();
    throw error;
  }
}

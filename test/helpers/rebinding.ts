import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { compileWorkflow } from '../../engine/compile/compile.ts';
import type { CompiledWorkflow } from '../../engine/compile/types.ts';
import { createEgressPolicy } from '../../engine/kinds/support/egress.ts';
import { createMemoryRateLimitStore } from '../../engine/kinds/support/rate-limit-store.ts';
import { validateWorkflow } from '../../shared/compile/index.ts';
import { errorCatalogSchema } from '../../shared/schema/index.ts';
import { REPO } from './gateway.ts';
import { freePort } from './redis.ts';

/**
 * DNS that rebinds: a workflow compiled with an egress policy that allows 127.0.0.1:<port> and
 * resolves every name with the attacker's lookup, which answers 127.0.0.1 until `rebind()`, then
 * 127.0.0.2, where an internal service listens on the same port and counts what reaches it.
 * Everything else is real: validation, compile, the kinds' runtimes and their undici pools.
 */
export interface Rebinding {
  /** The port both the allowed and the internal address listen on. */
  port: number;
  compiled: CompiledWorkflow;
  /** The paths the internal service was asked for. */
  reached: string[];
  /** What the egress policy's connector refused. */
  denials: Array<{ host: string; address: string }>;
  rebind(): void;
  close(): Promise<void>;
}

export async function compileRebinding(document: (port: number) => unknown, options: { calloutHosts?: string[] } = {}): Promise<Rebinding> {
  const port = await freePort();
  const reached: string[] = [];
  const internal: Server = createServer((req, res) => {
    reached.push(req.url ?? '');
    res.end('{"SecretAccessKey":"leaked"}');
  });
  await new Promise<void>((resolve) => internal.listen(port, '127.0.0.2', resolve));
  let resolvesTo = '127.0.0.1';
  const attackerDns = (_host: string, _options: unknown, callback: (error: Error | null, addresses: Array<{ address: string; family: number }>) => void) => process.nextTick(callback, null, [{ address: resolvesTo, family: 4 }]);
  const denials: Array<{ host: string; address: string }> = [];
  const resources = new Map<string, unknown>();
  const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));
  const validated = validateWorkflow(document(port), { catalog });
  if (!validated.ok) throw new Error(JSON.stringify(validated.problems));
  const compiled = await compileWorkflow(validated.graph, 1, {
    env: {},
    dataDir: REPO,
    rateLimits: createMemoryRateLimitStore(),
    shared: { get: <T,>(key: string, create: () => T) => (resources.has(key) ? (resources.get(key) as T) : (resources.set(key, create()).get(key) as T)) },
    calloutHosts: options.calloutHosts ?? [],
    egress: createEgressPolicy({ allow: `127.0.0.1:${port}`, lookup: attackerDns as never, onDenied: (denial) => denials.push(denial) }),
  });
  return {
    port,
    compiled,
    reached,
    denials,
    rebind: () => {
      resolvesTo = '127.0.0.2';
    },
    close: async () => {
      compiled.close();
      for (const value of resources.values()) await (value as { close?: () => unknown }).close?.();
      await new Promise((resolve) => internal.close(resolve));
    },
  };
}

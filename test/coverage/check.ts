import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAULT_STATE } from '../../shared/compile/index.ts';
import { kinds, type AnyKindDescriptor } from '../../shared/nodes/index.ts';
import type { CoverageRecord } from './collector.ts';

/** Every record the test processes wrote to `dir`. */
export function readRecords(dir: string): CoverageRecord[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as CoverageRecord));
}

/** What the run reached, counted for the summary line. */
export interface Reached {
  kinds: number;
  ports: number;
  errors: number;
  files: number;
}

/**
 * The gaps: for every node kind, each port of the configs the tests served (but those named by
 * the config, such as a switch's cases, of which one taken is enough) that no request took, and
 * each catalog error the kind declares that no request ending at a node of that kind answered.
 * A kind no test served is one gap naming its ports as far as they are known without a config.
 */
export function coverageGaps(records: readonly CoverageRecord[]): { gaps: string[]; reached: Reached } {
  const gaps: string[] = [];
  const reached: Reached = { kinds: 0, ports: 0, errors: 0, files: new Set(records.map((r) => r.file)).size };
  for (const [kind, d] of Object.entries(kinds) as Array<[string, AnyKindDescriptor]>) {
    const nodes = records.filter((r): r is Extract<CoverageRecord, { t: 'node' }> => r.t === 'node' && r.kind === kind);
    const taken = new Set(records.flatMap((r) => (r.t === 'port' && r.kind === kind ? [r.port] : [])));
    const answered = new Set(records.flatMap((r) => (r.t === 'error' && r.kind === kind ? [r.error] : [])));
    if (nodes.length === 0 && taken.size === 0) {
      let ports = '';
      try {
        ports = `; its ports: ${(d.ports(undefined) as Array<{ name: string }>).map((p) => p.name).join(', ')}`;
      } catch {
        // its ports come from its config
      }
      gaps.push(`${kind}: no request ran a ${kind} node${ports}; its errors: ${d.errors.join(', ') || 'none'}`);
      continue;
    }
    reached.kinds++;
    const fixed = new Set(nodes.flatMap((n) => n.ports.filter((p) => !n.named.includes(p))));
    for (const port of [...fixed].sort()) {
      if (taken.has(port)) reached.ports++;
      else gaps.push(`${kind}: port "${port}" is never taken by a request`);
    }
    const named = new Set(nodes.flatMap((n) => n.named));
    if (named.size > 0) {
      if ([...taken].some((p) => !fixed.has(p) && p !== FAULT_STATE)) reached.ports++;
      else gaps.push(`${kind}: no port named by its config (${[...named].slice(0, 3).join(', ')}…) is ever taken by a request`);
    }
    for (const error of d.errors) {
      if (answered.has(error)) reached.errors++;
      else gaps.push(`${kind}: error "${error}" is never answered by a request ending at a ${kind} node`);
    }
  }
  return { gaps, reached };
}

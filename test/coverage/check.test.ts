import { describe, expect, it } from 'vitest';
import { kinds, type AnyKindDescriptor } from '../../shared/nodes/index.ts';
import { coverageGaps } from './check.ts';
import type { CoverageRecord } from './collector.ts';

/**
 * The check over records as the collector writes them: what a full run reached is tested by the
 * run itself (setup.ts); here, that the check names what is missing and nothing else.
 */
const file = 'test/x.test.ts';
const node = (kind: string, ports: string[], named: string[] = []): CoverageRecord => ({ t: 'node', kind, ports, named, file });
const port = (kind: string, name: string): CoverageRecord => ({ t: 'port', kind, port: name, file, via: 'gateway' });
const error = (kind: string, id: string): CoverageRecord => ({ t: 'error', kind, error: id, file, via: 'simulate' });

/** Records reaching every port and error of every kind (ports of the configs the tests of each kind file use). */
function everything(): CoverageRecord[] {
  return (Object.entries(kinds) as Array<[string, AnyKindDescriptor]>).flatMap(([kind, d]) => {
    if (kind === 'switch') return [node(kind, ['gold', 'default'], ['gold']), port(kind, 'gold'), port(kind, 'default'), error(kind, 'expression_failed')];
    if (kind === 'subflow') return [node(kind, ['(an exit)'], ['(an exit)']), port(kind, '(an exit)')];
    if (kind === 'error') return [node(kind, ['raise']), port(kind, 'raise')];
    const names = (d.ports(undefined) as Array<{ name: string }>).map((p) => p.name);
    return [node(kind, names), ...names.map((n) => port(kind, n)), ...d.errors.map((e) => error(kind, e))];
  });
}
const without = (records: CoverageRecord[], drop: CoverageRecord) => records.filter((r) => JSON.stringify(r) !== JSON.stringify(drop));

describe('the port coverage check', () => {
  it('finds no gap when every port and declared error of every kind was reached', () => {
    const { gaps, reached } = coverageGaps(everything());
    expect(gaps).toEqual([]);
    expect(reached.kinds).toBe(Object.keys(kinds).length);
  });

  it('names a port no request took, by kind and port', () => {
    expect(coverageGaps(without(everything(), port('cors', 'preflight'))).gaps).toEqual(['cors: port "preflight" is never taken by a request']);
  });

  it('names a declared error no request answered at a node of that kind, even when another kind answered it', () => {
    const records = [...without(everything(), error('rate-limit', 'expression_failed')), error('condition', 'expression_failed')];
    expect(coverageGaps(records).gaps).toEqual(['rate-limit: error "expression_failed" is never answered by a request ending at a rate-limit node']);
  });

  it('names a kind no request ran, with its ports and errors', () => {
    const records = everything().filter((r) => r.kind !== 'scope-check');
    expect(coverageGaps(records).gaps).toEqual(['scope-check: no request ran a scope-check node; its ports: ok, denied; its errors: insufficient_scope']);
  });

  it('asks one port named by a config (a switch case) to be taken, whichever, and every fixed one', () => {
    const records = [...everything(), node('switch', ['eu', 'us', 'default'], ['eu', 'us'])];
    expect(coverageGaps(records).gaps).toEqual([]);
    expect(coverageGaps(without(records, port('switch', 'gold'))).gaps).toEqual(['switch: no port named by its config (gold, eu, us…) is ever taken by a request']);
    expect(coverageGaps(without(records, port('switch', 'default'))).gaps).toEqual(['switch: port "default" is never taken by a request']);
  });

  it('takes the ports of every config served: a port only some configs have is asked for too', () => {
    const records = [...everything(), node('cors', ['ok', 'preflight', 'denied', 'someday'])];
    expect(coverageGaps(records).gaps).toEqual(['cors: port "someday" is never taken by a request']);
  });
});

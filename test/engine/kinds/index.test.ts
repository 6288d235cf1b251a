import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimes } from '../../../engine/kinds/index.ts';
import { isKindName, kinds, type KindName } from '../../../shared/nodes/index.ts';
import { REPO } from '../../helpers/gateway.ts';

/**
 * The kinds' tests mirror the code: test/engine/kinds/<kind>.test.ts for each kind of
 * shared/nodes (its descriptor through describeKind, and its runtime over HTTP: that every port
 * and declared error is reached by some test is checked after a full run by test/coverage),
 * test/engine/kinds/support/<service>.test.ts for the services in engine/kinds/support.
 */
const HERE = import.meta.dirname;
const kindNames = Object.keys(kinds) as KindName[];
const testFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.test.ts')).map((name) => name.slice(0, -'.test.ts'.length));

describe('the kinds and their tests', () => {
  it.each(kindNames)('%s has a runtime and a test file that describes its descriptor', (kind) => {
    expect(typeof runtimes[kind]).toBe('function');
    const source = readFileSync(join(HERE, `${kind}.test.ts`), 'utf8');
    expect(source).toContain(`describeKind('${kind}', {`);
  });

  it('every test file here names a kind', () => {
    expect(testFiles(HERE).filter((name) => name !== 'index' && !isKindName(name))).toEqual([]);
  });

  it('every test file in support/ names a service of engine/kinds/support', () => {
    const services = new Set(readdirSync(join(REPO, 'engine', 'kinds', 'support')).map((name) => name.replace(/\.ts$/, '')));
    expect(testFiles(join(HERE, 'support')).filter((name) => !services.has(name))).toEqual([]);
  });
});

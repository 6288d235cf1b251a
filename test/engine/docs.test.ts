import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReadme } from '../../engine/docs/reference.ts';
import { kinds } from '../../shared/nodes/index.ts';
import { REPO } from '../helpers/gateway.ts';

describe('README reference blocks', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

  it('are what the descriptors, catalog and settings generate (run `npm run -s sluice -- docs`)', () => {
    expect(readme).toBe(renderReadme(readme, join(REPO, 'examples', 'errors.json')));
  });

  it.each(Object.keys(kinds))('documents the %s kind', (kind) => {
    expect(readme).toContain(`### \`${kind}\``);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorContract, validateWorkflow } from '../../../shared/compile/index.ts';
import { errorCatalogSchema } from '../../../shared/schema/index.ts';
import { REPO } from '../../helpers/gateway.ts';
import { billingWorkflow } from './support.ts';
import { loadSettings } from '../../../engine/config.ts';
import { rebaseCatalog, rebasedCatalogs } from '../../../engine/portal/problem-base.ts';
import { BUILTIN_PROBLEM_BASE } from '../../../shared/schema/index.ts';
import { problemSlug, publicCondition } from '../../../engine/portal/public-contract.ts';
import type { ErrorCatalog } from '../../../shared/schema/index.ts';

const catalog: ErrorCatalog = {
  errors: {
    rate_limited: { status: 429, type: `${BUILTIN_PROBLEM_BASE}rate-limited`, title: 'Too Many Requests', detail: 'Slow down.' },
    own_error: { status: 418, type: 'https://errors.acme.test/teapot', title: 'Teapot', detail: 'A teapot.' },
  },
};

describe('SLUICE_PROBLEM_BASE', () => {
  it.each([
    ['https://api.example.com/portal/problems/', 'https://api.example.com/portal/problems/rate-limited'],
    ['/portal/problems/', '/portal/problems/rate-limited'],
  ])('puts the built-in types under %s and leaves an operator\'s own types alone', (base, type) => {
    const rebased = rebaseCatalog(catalog, base);
    expect(rebased.errors.rate_limited).toEqual({ ...catalog.errors.rate_limited, type });
    expect(rebased.errors.own_error).toBe(catalog.errors.own_error);
    expect(catalog.errors.rate_limited!.type).toBe(`${BUILTIN_PROBLEM_BASE}rate-limited`); // the catalog read is not changed
  });

  it('is the same catalog without a base, and a stored catalog is rebased once per hash', async () => {
    expect(rebaseCatalog(catalog, undefined)).toBe(catalog);
    let reads = 0;
    const stored = rebasedCatalogs({ read: async () => (reads++, catalog) }, '/p/');
    const [a, b] = [await stored.read('h1'), await stored.read('h1')];
    expect(a).toBe(b);
    expect(a.errors.rate_limited!.type).toBe('/p/rate-limited');
    expect(reads).toBe(2);
  });

  it.each(['https://api.example.com/portal/problems', 'portal/problems/', 'javascript:alert(1)/', 'https://a b/', 'https://x.test/p/?q=1/'])('refuses %s', (value) => {
    expect(() => loadSettings({ SLUICE_PROBLEM_BASE: value })).toThrow(/SLUICE_PROBLEM_BASE/);
  });

  it('refuses an unknown portal mode', () => {
    expect(() => loadSettings({ SLUICE_PORTAL: 'open' })).toThrow(/SLUICE_PORTAL/);
    expect(loadSettings({}).portal).toBe('public');
  });
});

describe('what a stranger reads of a contract', () => {
  it.each([
    ["the condition `` request.headers.`x-internal` = 'a' `` is false", 'a condition of the API is false'],
    ['the condition `vars.tier = "gold"` is true', 'a condition of the API is true'],
    ['the case `claims.admin` holds (the first that does)', 'a case of the API holds (the first that does)'],
    ['no case of Route to backoffice.corp holds', 'no case holds'],
    ['an expression of Shape ledger fails or makes an invalid value', 'a transformation fails or makes an invalid value'],
    ['an expression of call-ledger fails or exceeds its time, depth or size bound', 'an expression of the workflow fails or exceeds its time, depth or size bound'],
    ['the side service (ledger-internal) answers 2xx', 'a side service answers 2xx'],
    ['the upstream at http://10.0.0.7:8080/x does not answer', 'the upstream at <address> does not answer'],
    ['reads ${SLUICE_UPSTREAM_X} from 10.1.2.3:9000', 'reads <setting> from <address>'],
    ['scope orders:read is missing', 'scope orders:read is missing'],
  ])('%s -> %s', (words, shown) => {
    expect(publicCondition(words)).toBe(shown);
  });

  it.each([
    ['rate_limited', 'https://problems.sluice.example/rate-limited', 'rate-limited'],
    ['rate_limited', '/portal/problems/rate-limited/', 'rate-limited'],
    ['not_found', 'about:blank', 'not-found'],
    ['own_error', 'tag:acme.test,2026:teapot', 'own-error'],
  ])('%s of type %s is documented at /portal/problems/%s', (id, type, slug) => {
    expect(problemSlug(id, type)).toBe(slug);
  });
});

describe('the public words of the example workflows and the fixture', () => {
  const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));
  const fragments = readdirSync(join(REPO, 'examples', 'fragments')).map((f) => JSON.parse(readFileSync(join(REPO, 'examples', 'fragments', f), 'utf8')));
  const resolver = (id: string) => {
    const fragment = fragments.find((f) => f.id === id);
    return fragment && { version: 1, document: fragment };
  };
  const documents = [...readdirSync(join(REPO, 'examples', 'workflows')).map((f) => JSON.parse(readFileSync(join(REPO, 'examples', 'workflows', f), 'utf8'))), billingWorkflow({ rateLimit: true })];

  it.each(documents.map((d) => [d.id, d]))('%s: no expression of its nodes survives in the words', (_id, document) => {
    const result = validateWorkflow(document, { catalog, fragments: resolver as never });
    expect(result.ok, JSON.stringify(!result.ok && result.problems.slice(0, 2))).toBe(true);
    if (!result.ok) return;
    const sources = [...result.graph.nodes.values()].flatMap((n) => n.descriptor.expressions(n.config as never).map((e: { source: string }) => e.source)).filter((s) => s.length > 3);
    const words = errorContract(result.graph, catalog).map((e) => publicCondition(e.condition));
    for (const source of sources) for (const said of words) expect(said).not.toContain(source);
    for (const said of words) expect(said).not.toMatch(/`[^`]*[$.=(]/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contractMarkdown, diffContracts, entryWords, errorContract, validateWorkflow } from '../../shared/compile/index.ts';
import { portWords } from '../../shared/compile/port-words.ts';
import { errorCatalogSchema } from '../../shared/schema/index.ts';
import { REPO } from '../helpers/gateway.ts';

const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));

/** A gold-tier route: a JWT (missing and invalid both wired to one error node), a scope, a tier condition, a limit. */
const gold = {
  id: 'gold',
  name: 'Gold orders',
  route: { methods: ['GET'], path: '/gold' },
  nodes: [
    { id: 'verify', kind: 'jwt-verify', label: 'Verify token', config: { jwksFile: 'demo-jwks.json', algorithms: ['RS256'] } },
    { id: 'denied', kind: 'error', label: 'Who are you?', config: { error: 'invalid_token' } },
    { id: 'scopes', kind: 'scope-check', label: 'Needs orders:read', config: { all: ['orders:read'] } },
    { id: 'tier', kind: 'condition', label: 'Gold tier?', config: { when: "request.headers.`x-tier` = 'gold'" } },
    { id: 'not-gold', kind: 'error', config: { error: 'insufficient_scope' } },
    { id: 'limit', kind: 'rate-limit', config: { limit: 50, window: '1m', key: 'partner' } },
    { id: 'answer', kind: 'respond', label: 'Gold answer', config: { status: 200, body: { gold: true } } },
  ],
  edges: [
    { from: 'verify', port: 'missing', to: 'denied' },
    { from: 'verify', port: 'invalid', to: 'denied' },
    { from: 'verify', port: 'ok', to: 'scopes' },
    { from: 'scopes', port: 'ok', to: 'tier' },
    { from: 'tier', port: 'true', to: 'limit' },
    { from: 'tier', port: 'false', to: 'not-gold' },
    { from: 'limit', port: 'ok', to: 'answer' },
  ],
};

function contractOf(document: unknown) {
  const result = validateWorkflow(document, { catalog });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return errorContract(result.graph, catalog);
}

describe('the contract in words', () => {
  const contract = contractOf(gold);
  const at = (node: string) => contract.find((e) => e.node === node)!;

  it('says why an error node answers by the edges into it, not "the request reaches this node"', () => {
    expect(at('denied').condition).toBe('the JWT is missing or invalid (malformed, expired, badly signed or for someone else)');
    expect(at('not-gold').condition).toBe("the condition `` request.headers.`x-tier` = 'gold' `` is false");
    expect(contract.map((e) => e.condition)).not.toContain('the request reaches this node');
  });

  it('says why a port answers from its kind and config', () => {
    expect(contract.find((e) => e.id === 'insufficient_scope' && e.node === 'scopes')!.condition).toBe('scope orders:read is missing');
    expect(contract.find((e) => e.id === 'rate_limited')!.condition).toBe('the caller sends more than 50 requests per 1m per partner');
    expect(at('answer').condition).toBe('the caller is within 50 requests per 1m per partner');
    const any = contractOf({ ...gold, nodes: gold.nodes.map((n) => (n.id === 'scopes' ? { ...n, config: { all: ['a', 'b'], any: ['c', 'd'] } } : n)) });
    expect(any.find((e) => e.node === 'scopes')!.condition).toBe('one of scopes a and b is missing or none of scopes c and d is granted');
  });

  it('keeps the why of a node many edges lead into short: the first ways, then a count', () => {
    const checks = Array.from({ length: 40 }, (_, i) => ({ id: `c${i}`, kind: 'condition', config: { when: `request.query.n = "${i}"` } }));
    const many = {
      ...gold,
      nodes: [...checks, { id: 'no', kind: 'error', config: { error: 'insufficient_scope' } }, { id: 'yes', kind: 'respond', config: { status: 200 } }],
      edges: checks.flatMap((c, i) => [
        { from: c.id, port: 'true', to: 'no' },
        { from: c.id, port: 'false', to: i === checks.length - 1 ? 'yes' : `c${i + 1}` },
      ]),
    };
    const why = contractOf(many).find((e) => e.node === 'no')!.condition;
    expect(why).toMatch(/^the condition `request\.query\.n = "0"` is true, or .*, or 34 other ways$/);
    expect(why.length).toBeLessThan(400);
  });

  it('names the path on the canvas by node names and keeps the example body', () => {
    const words = entryWords(at('not-gold'), (id) => gold.nodes.find((n) => n.id === id)?.label ?? id);
    expect(words).toMatchObject({ status: 403, title: expect.any(String), type: 'https://problems.sluice.example/insufficient-scope', path: 'Verify token → Needs orders:read → Gold tier? → not-gold' });
    expect(JSON.parse(words.example)).toMatchObject({ status: 403, instance: '/gold' });
    expect(entryWords(contract.find((e) => e.id === 'method_not_allowed')!).path).toBe('any request to the route (the gateway answers)');
  });

  it('writes Markdown with the same words: a table, each answer with why, path and example', () => {
    const markdown = contractMarkdown({ workflow: 'gold', version: 'draft', route: gold.route, name: gold.name, change: 'this change adds 429' }, contract, (id) => gold.nodes.find((n) => n.id === id)?.label ?? id);
    expect(markdown).toContain('# Gold orders: the answers it gives');
    expect(markdown).toContain('**Change against the active version:** this change adds 429.');
    expect(markdown).toContain("| 403 | Insufficient Scope | https://problems.sluice.example/insufficient-scope | the condition `` request.headers.`x-tier` = 'gold' `` is false |");
    expect(markdown).toContain('- **Path on the canvas:** Verify token → Needs orders:read → Gold tier? → not-gold');
    expect(markdown).toMatch(/```json\n\{\n {2}"type": "https:\/\/problems\.sluice\.example\/rate-limited"/);
  });

  it('keeps labels and bodies from adding markup to the Markdown', () => {
    const sly = {
      ...gold,
      name: 'Gold <img src=x onerror=alert(1)>',
      nodes: gold.nodes.map((n) => (n.id === 'answer' ? { ...n, config: { status: 200, body: { note: '```\n<script>alert(1)</script>' } } } : n.id === 'tier' ? { ...n, label: 'Tier\n# <b>owned</b>' } : n)),
    };
    const names = (id: string) => sly.nodes.find((n) => n.id === id)?.label ?? id;
    const markdown = contractMarkdown({ workflow: 'gold', version: 1, route: gold.route, name: sly.name }, contractOf(sly), names);
    expect(markdown).toContain('# Gold &lt;img src=x onerror=alert(1)&gt;: the answers it gives');
    expect(markdown).toContain('Tier # &lt;b&gt;owned&lt;/b&gt;');
    const outsideFences = markdown.replace(/^(`{3,})json\n[\s\S]*?\n\1$/gm, '');
    expect(outsideFences).not.toMatch(/<(img|b|script)/i);
    // the body's own ``` does not close the fence: a longer one is used
    expect(markdown).toContain('````json\n{\n  "note": "```\\n<script>alert(1)</script>"\n}\n````');
  });

  it('says a change between two contracts with the title and why of each answer', () => {
    const without = contractOf({ ...gold, nodes: gold.nodes.filter((n) => n.id !== 'limit'), edges: [...gold.edges.filter((e) => e.from !== 'limit' && e.to !== 'limit'), { from: 'tier', port: 'true', to: 'answer' }] });
    const { summary } = diffContracts(without, contract);
    expect(summary).toContain('adds 429 Too Many Requests at limit.limited (when the caller sends more than 50 requests per 1m per partner)');
  });
});

describe('the edge palette in the contract\'s words (shared/compile/port-words.ts)', () => {
  it.each([
    ['client-cert', {}, 'ok', 'the client certificate is verified and identifies a registered partner'],
    ['client-cert', {}, 'missing', 'the client certificate is missing'],
    ['client-cert', {}, 'invalid', 'the client certificate is not verified (another CA, expired, not yet valid) or identifies no registered partner'],
    ['client-cert', {}, 'suspended', 'the partner is suspended'],
    ['cors', {}, 'preflight', 'the request is an allowed CORS preflight'],
    ['cors', {}, 'denied', 'the origin, or the method or headers a preflight asks for, is not allowed'],
    ['validate-request', {}, 'invalid', 'the request does not match its schemas'],
    ['http-call', { name: 'profile', timeout: '300ms' }, 'timeout', 'the side service (profile) does not answer within 300ms'],
    ['http-call', { name: 'profile' }, 'error', 'the side service (profile) cannot be reached or answers another status'],
    ['cache-lookup', {}, 'hit', 'a fresh cached answer is found'],
    ['proxy', {}, 'open', 'every upstream target has its circuit breaker open'],
  ])('%s %j leaves by %s when %s', (kind, config, port, words) => {
    expect(portWords({ id: 'n', kind, config }, port)).toBe(words);
  });

  it('merges a client certificate\'s missing and invalid into one reason for the error node they share', () => {
    const doc = {
      id: 'certs',
      name: 'Certificates',
      route: { methods: ['GET'], path: '/certs' },
      nodes: [
        { id: 'cert', kind: 'client-cert', config: {} },
        { id: 'who', kind: 'error', config: { error: 'invalid_client_certificate' } },
        { id: 'answer', kind: 'respond', config: { status: 200 } },
      ],
      edges: [
        { from: 'cert', port: 'missing', to: 'who' },
        { from: 'cert', port: 'invalid', to: 'who' },
        { from: 'cert', port: 'ok', to: 'answer' },
      ],
    };
    const result = validateWorkflow(doc, { catalog });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const entry = errorContract(result.graph, catalog).find((e) => e.id === 'invalid_client_certificate');
    expect(entryWords(entry!).why).toMatch(/^the client certificate is missing or not verified/);
  });
});

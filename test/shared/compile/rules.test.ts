import { describe, expect, it } from 'vitest';
import { outboundUrls, pathWords, ruleProblems, urlAllowed, validateWorkflow, type ValidGraph } from '../../../shared/compile/index.ts';
import { fragmentDocumentSchema, ruleSetSchema, RULE_LIMITS, type FragmentResolver, type Rule } from '../../../shared/schema/index.ts';
import { workflow, type NodeDoc } from '../../helpers/workflow.ts';

/*
 * Organisation rules over validated graphs (shared/compile/rules.ts): each form passing and
 * breaking, guards skipped on a branch or an error port, guards inside a subflow, URLs on and off
 * the allow list, and a graph with more paths than could ever be walked one by one.
 */

const IDENTITY = ['jwt-verify', 'api-key', 'introspect'];
const guarded: Rule = { id: 'guarded-proxy', description: 'Every upstream call is authenticated and rate limited', form: 'every-path', to: ['proxy'], passes: [IDENTITY, ['rate-limit']] };
const noAnonymousSuccess = ruleSetSchema.parse({ rules: [{ id: 'no-anonymous-success', description: 'No success without an identity', form: 'no-success-without', passes: IDENTITY }] }).rules[0]!;
const egress: Rule = { id: 'egress', description: 'Upstreams on the approved hosts only', form: 'url-allow-list', allow: ['https://orders.example.com/v1', '*.example.com', '${SLUICE_UPSTREAM_ORDERS}'] };

const key: NodeDoc = { id: 'key', kind: 'api-key', config: {} };
const limit: NodeDoc = { id: 'limit', kind: 'rate-limit', config: { limit: 10, window: '1m' } };
const proxy = (id = 'call', url = 'https://orders.example.com/v1'): NodeDoc => ({ id, kind: 'proxy', config: { url } });

/** The validated graph of a document (failing the test when it does not validate). */
function graphOf(document: unknown, fragments?: FragmentResolver): ValidGraph {
  const result = validateWorkflow(document, fragments ? { fragments } : {});
  if (!result.ok) throw new Error(`does not validate: ${JSON.stringify(result.problems)}`);
  return result.graph;
}

describe('every-path rules', () => {
  it('pass when every path to the proxy passes an identity node and a rate limit, each by its ok port', () => {
    const graph = graphOf(workflow('orders', { path: '/orders' }, [key, limit, proxy()], [['key', 'ok', 'limit'], ['limit', 'ok', 'call']]));
    expect(ruleProblems(graph, [guarded])).toEqual([]);
  });

  it('break on a condition branch that skips the rate limit: the problem is on the proxy, naming the rule and the path', () => {
    const graph = graphOf(
      workflow('orders', { path: '/orders' }, [key, { id: 'route', kind: 'condition', config: { when: 'request.query.fast = "1"' } }, limit, proxy()], [
        ['key', 'ok', 'route'],
        ['route', 'false', 'limit'],
        ['route', 'true', 'call'],
        ['limit', 'ok', 'call'],
      ]),
    );
    const problems = ruleProblems(graph, [guarded]);
    expect(problems).toEqual([
      {
        code: 'rule_broken',
        node: 'call',
        message: 'rule "guarded-proxy" (Every upstream call is authenticated and rate limited): the path key → route → call reaches proxy "call" without first passing rate-limit (left by its success port)',
      },
    ]);
  });

  it('break when a guard\'s error port leads on to the proxy (the guard was passed, not satisfied); the path names the port', () => {
    const graph = graphOf(
      workflow('orders', { path: '/orders' }, [{ id: 'verify', kind: 'jwt-verify', config: { secretEnv: 'SLUICE_SECRET_JWT', algorithms: ['HS256'] } }, limit, proxy()], [
        ['limit', 'ok', 'verify'],
        ['verify', 'ok', 'call'],
        ['verify', 'invalid', 'call'],
      ]),
    );
    const [problem, ...rest] = ruleProblems(graph, [guarded]);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ code: 'rule_broken', node: 'call' });
    expect(problem!.message).toContain('the path limit → verify (invalid) → call reaches proxy "call" without first passing jwt-verify, api-key or introspect');
    // a rate limit that fails open to the proxy (its unavailable port) breaks the other group
    const open = graphOf(workflow('orders', { path: '/orders' }, [key, limit, proxy()], [['key', 'ok', 'limit'], ['limit', 'ok', 'call'], ['limit', 'unavailable', 'call']]));
    expect(ruleProblems(open, [guarded]).map((p) => p.message)).toEqual([expect.stringContaining('the path key → limit (unavailable) → call reaches proxy "call" without first passing rate-limit')]);
  });

  it('names every group a path lacks, and holds every target kind listed', () => {
    const graph = graphOf(workflow('orders', { path: '/orders' }, [{ id: 'side', kind: 'http-call', config: { name: 'side', url: 'https://side.example.com' } }, proxy()], [['side', 'ok', 'call']]));
    const rule: Rule = { ...guarded, to: ['proxy', 'http-call'] };
    expect(ruleProblems(graph, [rule]).map((p) => [p.node, p.message.split(': ').at(-1)])).toEqual([
      ['side', 'the path side reaches http-call "side" without first passing jwt-verify, api-key or introspect, nor rate-limit (left by its success port)'],
      ['call', 'the path side → call reaches proxy "call" without first passing jwt-verify, api-key or introspect, nor rate-limit (left by its success port)'],
    ]);
  });

  it('count a guard inside a subflow, where the fragment is used; a fragment without it breaks the rule', () => {
    const fragment = (withLimit: boolean) =>
      fragmentDocumentSchema.parse({
        id: 'guard',
        name: 'Guard',
        exits: [{ name: 'ok' }],
        nodes: withLimit ? [key, limit] : [key],
        edges: withLimit ? [{ from: 'key', port: 'ok', to: 'limit' }, { from: 'limit', port: 'ok', to: 'ok' }] : [{ from: 'key', port: 'ok', to: 'ok' }],
      });
    const document = workflow('orders', { path: '/orders' }, [{ id: 'auth', kind: 'subflow', config: { fragment: 'guard', exits: ['ok'] } }, proxy()], [['auth', 'ok', 'call']]);
    const resolver = (withLimit: boolean): FragmentResolver => (id) => (id === 'guard' ? { version: 1, document: fragment(withLimit) } : undefined);
    expect(ruleProblems(graphOf(document, resolver(true)), [guarded])).toEqual([]);
    expect(ruleProblems(graphOf(document, resolver(false)), [guarded])).toEqual([expect.objectContaining({ node: 'call', message: expect.stringContaining('the path auth/key → call reaches proxy "call"') })]);
  });
});

describe('no-success-without rules', () => {
  it('pass when every 2xx answer comes after an identity node; a 4xx answer before one is not held to it', () => {
    const graph = graphOf(
      workflow('orders', { path: '/orders' }, [{ id: 'gate', kind: 'condition', config: { when: 'request.query.x = "1"' } }, key, { id: 'ok', kind: 'respond', config: { status: 200 } }, { id: 'nope', kind: 'respond', config: { status: 404 } }], [
        ['gate', 'true', 'key'],
        ['gate', 'false', 'nope'],
        ['key', 'ok', 'ok'],
      ]),
    );
    expect(noAnonymousSuccess).toMatchObject({ statuses: '2xx' });
    expect(ruleProblems(graph, [noAnonymousSuccess])).toEqual([]);
    // with the 404 among the statuses held to it, the unguarded branch breaks it
    expect(ruleProblems(graph, [{ ...noAnonymousSuccess, statuses: [200, 404] } as Rule]).map((p) => [p.node, p.message.split(': ').at(-1)])).toEqual([
      ['nope', 'the path gate (false) → nope answers 404 at respond "nope" without first passing jwt-verify, api-key or introspect (left by its success port)'],
    ]);
  });

  it('break when a branch answers 200 without an identity, or when the identity node\'s missing port answers it', () => {
    const graph = graphOf(
      workflow('orders', { path: '/orders' }, [key, { id: 'welcome', kind: 'respond', config: { status: 201 } }], [['key', 'ok', 'welcome'], ['key', 'missing', 'welcome']]),
    );
    expect(ruleProblems(graph, [noAnonymousSuccess])).toEqual([{ code: 'rule_broken', node: 'welcome', message: expect.stringContaining('the path key (missing) → welcome answers 201 at respond "welcome"') }]);
  });
});

describe('url-allow-list rules', () => {
  it('accept URL prefixes, hosts, subdomain wildcards and operator variables; the problem names the node and field', () => {
    const graph = graphOf(
      workflow('orders', { path: '/orders' }, [key, { id: 'call', kind: 'proxy', config: { targets: [{ url: 'https://orders.example.com/v1/x' }, { url: 'https://evil.test/v1' }] } }], [['key', 'ok', 'call']]),
    );
    expect(ruleProblems(graph, [egress])).toEqual([
      {
        code: 'rule_broken',
        node: 'call',
        field: 'config.targets.1.url',
        message: 'rule "egress" (Upstreams on the approved hosts only): proxy "call" sends requests to "https://evil.test/v1", which the allow list does not include (path key → call)',
      },
    ]);
    const env = graphOf(workflow('orders', { path: '/orders' }, [proxy('call', '${SLUICE_UPSTREAM_ORDERS}/v1')]));
    expect(ruleProblems(env, [egress])).toEqual([]);
    const billing = graphOf(workflow('orders', { path: '/orders' }, [proxy('call', '${SLUICE_UPSTREAM_BILLING}/v1')]));
    expect(ruleProblems(billing, [egress])[0]!.message).toContain('whose base the operator variable ${SLUICE_UPSTREAM_BILLING} sets: the allow list does not name ${SLUICE_UPSTREAM_BILLING}');
  });

  it('matches hosts and prefixes parsed, never by text: look-alike hosts, user@ tricks, ports, path segments', () => {
    expect(urlAllowed('https://api.example.com/x', '*.example.com')).toBe(true);
    expect(urlAllowed('https://a.b.example.com', '*.example.com')).toBe(true);
    expect(urlAllowed('https://evil-example.com/', '*.example.com')).toBe(false);
    expect(urlAllowed('https://example.com/', '*.example.com')).toBe(false); // subdomains only
    expect(urlAllowed('https://example.com.evil.test/', '*.example.com')).toBe(false);
    expect(urlAllowed('https://api.example.com@evil.test/', '*.example.com')).toBe(false);
    expect(urlAllowed('http://10.0.0.1/', '*.0.0.1')).toBe(false);
    expect(urlAllowed('http://10.0.0.1/', '10.0.0.1')).toBe(true);
    expect(urlAllowed('https://API.Example.COM./v1', 'api.example.com')).toBe(true);
    expect(urlAllowed('https://api.example.com:8443/', 'api.example.com:443')).toBe(false);
    expect(urlAllowed('https://api.example.com/', 'api.example.com:443')).toBe(true);
    expect(urlAllowed('https://orders.example.com/v1', 'https://orders.example.com/v1')).toBe(true);
    expect(urlAllowed('https://orders.example.com/v1/items', 'https://orders.example.com/v1')).toBe(true);
    expect(urlAllowed('https://orders.example.com/v10', 'https://orders.example.com/v1')).toBe(false);
    expect(urlAllowed('https://orders.example.com/v1/../admin', 'https://orders.example.com/v1')).toBe(false);
    expect(urlAllowed('http://orders.example.com/v1', 'https://orders.example.com/v1')).toBe(false);
    expect(urlAllowed('https://orders.example.com:443/v1', 'https://orders.example.com/')).toBe(true);
    expect(urlAllowed('${SLUICE_UPSTREAM_ORDERS}', '${SLUICE_UPSTREAM_ORDERS}')).toBe(true);
    expect(urlAllowed('${SLUICE_UPSTREAM_ORDERS_2}', '${SLUICE_UPSTREAM_ORDERS}')).toBe(false);
    expect(urlAllowed('${SLUICE_UPSTREAM_ORDERS}', '*.example.com')).toBe(false);
  });

  it('lists every URL a node sends requests to: key sets, discovery issuers, introspection', () => {
    expect(outboundUrls({ kind: 'jwt-verify', config: { issuers: [{ issuer: 'https://a.example.com' }, { issuer: 'https://b.example.com', jwksUri: 'https://keys.example.com/b' }] } })).toEqual([
      { field: 'config.issuers.0.issuer', url: 'https://a.example.com' },
      { field: 'config.issuers.1.jwksUri', url: 'https://keys.example.com/b' },
    ]);
    expect(outboundUrls({ kind: 'jwt-verify', config: { issuer: 'https://idp.example.com', secretEnv: 'SLUICE_SECRET_X' } })).toEqual([]); // a shared secret: nothing fetched
    expect(outboundUrls({ kind: 'introspect', config: { issuer: 'https://as.example.com' } })).toEqual([{ field: 'config.issuer', url: 'https://as.example.com' }]);
    expect(outboundUrls({ kind: 'http-call', config: { url: 'https://side.example.com' } })).toEqual([{ field: 'config.url', url: 'https://side.example.com' }]);
  });
});

describe('rule sets', () => {
  it('refuse regexes, look-alike patterns, unknown kinds, duplicate ids and oversized lists, naming the field', () => {
    const issues = (rules: unknown) => {
      const parsed = ruleSetSchema.safeParse({ rules });
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues([{ ...egress, allow: ['^https://.*\\.example\\.com'] }])).toEqual([expect.stringMatching(/^rules\.0\.allow\.0: must be a URL prefix/)]);
    expect(issues([{ ...egress, allow: ['https://*.example.com'] }])).toEqual([expect.stringMatching(/^rules\.0\.allow\.0: a URL prefix names one host/)]);
    expect(issues([{ ...egress, allow: ['https://x.example.com/?a=1'] }])).toEqual([expect.stringMatching(/^rules\.0\.allow\.0: must be a prefix/)]);
    expect(issues([{ ...guarded, passes: [['jwt-verfy']] }])).toEqual(['rules.0.passes.0.0: "jwt-verfy" is not a node kind']);
    expect(issues([guarded, guarded])).toEqual(['rules.1.id: rule id "guarded-proxy" is used twice']);
    expect(issues(Array.from({ length: RULE_LIMITS.rules + 1 }, (_, i) => ({ ...guarded, id: `r${i}` })))).toEqual([expect.stringMatching(/^rules: /)]);
    expect(issues([{ ...egress, allow: Array.from({ length: RULE_LIMITS.allow + 1 }, () => 'a.example.com') }])).toEqual([expect.stringMatching(/^rules\.0\.allow: /)]);
    expect(issues([{ ...guarded, id: 'Not An Id' }])).toEqual([expect.stringMatching(/^rules\.0\.id: /)]);
    expect(issues([guarded, egress, noAnonymousSuccess])).toEqual([]);
  });

  it('cut a long path in the middle', () => {
    expect(pathWords(Array.from({ length: 30 }, (_, i) => `n${i}`))).toBe('n0 → n1 → n2 → … 19 more … → n22 → n23 → n24 → n25 → n26 → n27 → n28 → n29');
  });

  it('evaluate a graph of 2^300 paths without walking them, and show the one kind of path that skips the limit', () => {
    // 300 diamonds in a row: a condition, a rate limit on its true side and a scope check on its false side.
    const diamonds = (bothLimited: number | undefined) => {
      const nodes: NodeDoc[] = [key];
      const edges: Array<[string, string, string]> = [];
      let into: Array<[string, string]> = [['key', 'ok']];
      for (let d = 0; d < 300; d++) {
        nodes.push({ id: `c${d}`, kind: 'condition', config: { when: 'true' } }, { id: `a${d}`, kind: 'rate-limit', config: { limit: 10 } });
        nodes.push(d === bothLimited ? { id: `b${d}`, kind: 'rate-limit', config: { limit: 10 } } : { id: `b${d}`, kind: 'scope-check', config: { all: ['orders:read'] } });
        edges.push(...into.map(([from, port]): [string, string, string] => [from, port, `c${d}`]), [`c${d}`, 'true', `a${d}`], [`c${d}`, 'false', `b${d}`]);
        into = [[`a${d}`, 'ok'], [`b${d}`, 'ok']];
      }
      nodes.push(proxy());
      edges.push(...into.map(([from, port]): [string, string, string] => [from, port, 'call']));
      return graphOf(workflow('big', { path: '/big' }, nodes, edges));
    };
    const limited: Rule = { ...guarded, passes: [['rate-limit']] };
    // one diamond limited on both sides: every one of the 2^300 paths passes a limit
    expect(ruleProblems(diamonds(150), [limited, { ...guarded, passes: [IDENTITY] }])).toEqual([]);
    const problems = ruleProblems(diamonds(undefined), [limited]);
    expect(problems).toEqual([
      {
        code: 'rule_broken',
        node: 'call',
        message: `rule "guarded-proxy" (Every upstream call is authenticated and rate limited): the path key → c0 (false) → b0 → … 591 more … → b296 → c297 (false) → b297 → c298 (false) → b298 → c299 (false) → b299 → call reaches proxy "call" without first passing rate-limit (left by its success port)`,
      },
    ]);
    // every rule of the largest set at once: each answers
    expect(ruleProblems(diamonds(undefined), Array.from({ length: RULE_LIMITS.rules }, (_, i) => ({ ...limited, id: `r${i}` })))).toHaveLength(RULE_LIMITS.rules);
  });
});

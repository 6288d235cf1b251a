import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Metrics } from '../../../engine/observe/metrics.ts';
import { NO_PARTNER, OTHER_PARTNER } from '../../../engine/observe/partner-labels.ts';
import { createTestIssuerWorkflows, type ObservedSetup } from './support.ts';
import { bearer, expectProblem } from '../../helpers/workflow.ts';

/** Parses Prometheus text into samples: name, labels, value. */
function samples(text: string) {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (list: ReturnType<typeof samples>, name: string, match: Record<string, string> = {}) =>
  list.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

describe('request log, metrics and trace context after a scripted mix of requests', () => {
  let setup: ObservedSetup;
  /** What the test sent, by outcome, to compare with logs and metrics. */
  const sent = { ok: 3, invalid_credentials: 2, denied: 1, limited: 2, upstream_error: 1 };
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  let tracedProblem: { traceId: string };

  beforeAll(async () => {
    setup = await createTestIssuerWorkflows();
    const { gw, tokens } = setup;
    // ok: within the limit of 3 per hour for acme (the first carries a traceparent)
    for (let i = 0; i < sent.ok; i++) {
      const res = await gw.fetch('/obs/orders', { headers: { ...bearer(tokens.acme), ...(i === 0 ? { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } : {}) } });
      expect(res.status, await res.text()).toBe(200);
    }
    // limited: acme's 4th and 5th
    for (let i = 0; i < sent.limited; i++) await expectProblem(await gw.fetch('/obs/orders', { headers: bearer(tokens.acme) }), 429, 'rate-limited');
    // invalid credentials: no token (one with a traceparent)
    tracedProblem = await expectProblem(await gw.fetch('/obs/orders', { headers: { traceparent: `00-${traceId}-00f067aa0ba902b8-01` } }), 401, 'missing-token');
    await expectProblem(await gw.fetch('/obs/orders'), 401, 'missing-token');
    // denied: globex lacks the scope
    await expectProblem(await gw.fetch('/obs/orders', { headers: bearer(tokens.noScope) }), 403, 'insufficient-scope');
    // upstream down
    await expectProblem(await gw.fetch('/obs/down', { headers: bearer(tokens.globex) }), 502, 'upstream-unavailable');
    await new Promise((resolve) => setImmediate(resolve)); // request lines are written once per event-loop turn
  });

  afterAll(async () => {
    await setup?.close();
  });

  const requestLines = () => setup.gw.logs.filter((l) => l.msg === 'request');

  it('logs one line per request with the stable dimensions', () => {
    const lines = requestLines();
    expect(lines).toHaveLength(Object.values(sent).reduce((a, b) => a + b, 0));
    const byOutcome: Record<string, number> = {};
    for (const line of lines) byOutcome[line.outcome as string] = (byOutcome[line.outcome as string] ?? 0) + 1;
    expect(byOutcome).toEqual(sent);
    for (const line of lines) {
      expect(line).toMatchObject({ level: 'info', method: 'GET' });
      expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(typeof line.ms).toBe('number');
      expect(Array.isArray(line.path)).toBe(true);
    }
    const ok = lines.find((l) => l.outcome === 'ok')!;
    expect(ok).toMatchObject({ route: '/obs/orders', workflow: 'obs-orders', version: 1, partner: 'acme', status: 200, path: ['verify', 'scopes', 'limit', 'call'] });
    expect(ok.problem).toBeUndefined();
    expect(ok.upstreamMs).toBeGreaterThan(0);
    // the subject is an HMAC, not the subject
    expect(ok.subject).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(lines)).not.toContain('alice@example.com');
    const limited = lines.find((l) => l.outcome === 'limited')!;
    expect(limited).toMatchObject({ status: 429, partner: 'acme', path: ['verify', 'scopes', 'limit'] });
    expect(limited.problem).toMatch(/\/rate-limited$/);
    expect(lines.find((l) => l.outcome === 'denied')).toMatchObject({ status: 403, partner: 'globex', path: ['verify', 'scopes'] });
    expect(lines.find((l) => l.outcome === 'invalid_credentials')).toMatchObject({ status: 401, path: ['verify'] });
    expect(lines.find((l) => l.outcome === 'upstream_error')).toMatchObject({ status: 502, workflow: 'obs-down', partner: 'globex' });
  });

  it('carries the caller trace id to the upstream, the log line and the problem body', () => {
    const forwarded = setup.upstream.received.find((r) => String(r.headers.traceparent ?? '').includes(traceId));
    expect(forwarded?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    // the gateway's own span is the upstream's parent, not the caller's
    expect(forwarded?.headers.traceparent).not.toContain('00f067aa0ba902b7');
    const logged = requestLines().filter((l) => l.traceId === traceId);
    expect(logged.map((l) => l.outcome).sort()).toEqual(['invalid_credentials', 'ok']);
    expect(tracedProblem.traceId).toBe(traceId);
  });

  it('never logs a token, a secret or an admin token', () => {
    const text = JSON.stringify(setup.gw.logs);
    for (const token of Object.values(setup.tokens)) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[2]!); // not even the signature
    }
    expect(text).not.toContain(setup.adminToken);
    expect(text).not.toContain(setup.subjectKey);
  });

  it('exposes the same counts as Prometheus metrics', async () => {
    const res = await setup.gw.fetch('/metrics', { headers: bearer(setup.adminToken) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const list = samples(await res.text());
    expect(sum(list, 'sluice_requests_total', { workflow: 'obs-orders', outcome: 'ok', partner: 'acme', status_class: '2xx', version: '1' })).toBe(sent.ok);
    expect(sum(list, 'sluice_requests_total', { workflow: 'obs-orders', outcome: 'limited', partner: 'acme', status_class: '4xx' })).toBe(sent.limited);
    expect(sum(list, 'sluice_requests_total', { workflow: 'obs-orders', outcome: 'invalid_credentials', partner: NO_PARTNER })).toBe(sent.invalid_credentials);
    expect(sum(list, 'sluice_requests_total', { workflow: 'obs-orders', outcome: 'denied', partner: 'globex' })).toBe(sent.denied);
    expect(sum(list, 'sluice_requests_total', { workflow: 'obs-down', outcome: 'upstream_error', status_class: '5xx' })).toBe(sent.upstream_error);
    expect(sum(list, 'sluice_requests_total')).toBe(Object.values(sent).reduce((a, b) => a + b, 0));
    expect(sum(list, 'sluice_request_duration_seconds_count', { workflow: 'obs-orders' })).toBe(8);
    // per node, per edge
    expect(sum(list, 'sluice_node_duration_seconds_count', { workflow: 'obs-orders', node: 'verify', kind: 'jwt-verify' })).toBe(8);
    expect(sum(list, 'sluice_node_duration_seconds_count', { workflow: 'obs-orders', node: 'call' })).toBe(sent.ok);
    expect(sum(list, 'sluice_edge_transitions_total', { workflow: 'obs-orders', node: 'verify', port: 'ok' })).toBe(6);
    expect(sum(list, 'sluice_edge_transitions_total', { workflow: 'obs-orders', node: 'verify', port: 'missing' })).toBe(2);
    expect(sum(list, 'sluice_edge_transitions_total', { workflow: 'obs-orders', node: 'scopes', port: 'denied' })).toBe(1);
    expect(sum(list, 'sluice_rate_limit_decisions_total', { workflow: 'obs-orders', decision: 'allowed' })).toBe(sent.ok);
    expect(sum(list, 'sluice_rate_limit_decisions_total', { workflow: 'obs-orders', decision: 'limited' })).toBe(sent.limited);
    expect(sum(list, 'sluice_upstream_errors_total', { workflow: 'obs-down', cause: 'unreachable' })).toBe(1);
    expect(sum(list, 'sluice_upstream_errors_total', { workflow: 'obs-orders' })).toBe(0);
    expect(sum(list, 'sluice_upstream_duration_seconds_count', { workflow: 'obs-orders' })).toBe(sent.ok);
    expect(sum(list, 'sluice_store_revision')).toBeGreaterThan(0);
    expect(sum(list, 'sluice_reloads_total', { result: 'applied' })).toBeGreaterThan(0);
    expect(sum(list, 'sluice_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('refuses /metrics without an admin token on the gateway port', async () => {
    const res = await setup.gw.fetch('/metrics');
    await expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('answers the outcome and partner breakdown of a workflow', async () => {
    const res = await setup.gw.fetch('/admin/api/workflows/obs-orders/stats?window=1h', { headers: bearer(setup.adminToken) });
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { requests: number; outcomes: Record<string, number>; partners: Array<{ partner: string; requests: number; limited: number }> };
    expect(stats.requests).toBe(8);
    expect(stats.outcomes).toMatchObject({ ok: 3, limited: 2, invalid_credentials: 2, denied: 1, upstream_error: 0 });
    expect(stats.partners.find((p) => p.partner === 'acme')).toMatchObject({ requests: 5, limited: 2 });
    expect(stats.partners.find((p) => p.partner === 'globex')).toMatchObject({ requests: 1, limited: 0 });
    const bad = await setup.gw.fetch('/admin/api/workflows/obs-orders/stats?window=2d', { headers: bearer(setup.adminToken) });
    await expectProblem(bad, 400, 'bad-request');
  });

  it('answers edge counts and node timings for the live canvas, filtered by partner', async () => {
    const read = async (query = '') => {
      const res = await setup.gw.fetch(`/admin/api/workflows/obs-orders/live${query}`, { headers: bearer(setup.adminToken) });
      expect(res.status).toBe(200);
      return (await res.json()) as { version: number; nodes: Array<{ id: string; runs: number; ports: Record<string, number>; p50Ms: number | null; p99Ms: number | null }>; edges: Array<{ from: string; port: string; to: string; count: number }>; lastMinute: { requests: number } };
    };
    const all = await read();
    expect(all.version).toBe(1);
    const edge = (live: typeof all, from: string, port: string) => live.edges.find((e) => e.from === from && e.port === port)?.count;
    expect(edge(all, 'verify', 'ok')).toBe(6);
    expect(edge(all, 'limit', 'ok')).toBe(3);
    // an unwired port has no edge on the canvas: its count is on the node
    expect(edge(all, 'call', 'ok')).toBeUndefined();
    expect(all.nodes.find((n) => n.id === 'call')!.ports).toEqual({ ok: 3 });
    expect(all.nodes.find((n) => n.id === 'verify')).toMatchObject({ runs: 8 });
    expect(all.nodes.find((n) => n.id === 'call')!.p99Ms).toBeGreaterThan(0);
    expect(all.lastMinute.requests).toBe(8);
    const acme = await read('?partner=acme');
    expect(edge(acme, 'verify', 'ok')).toBe(5);
    expect(edge(acme, 'scopes', 'ok')).toBe(5);
    const globex = await read('?partner=globex');
    expect(edge(globex, 'limit', 'ok')).toBe(0);
    expect(edge(globex, 'scopes', 'ok')).toBe(0);
  });
});

describe('partner label cardinality', () => {
  it('stays bounded under 10,000 distinct partner ids', async () => {
    const metrics = new Metrics({ partners: ['acme'], partnerLimit: 20, processMetrics: false });
    const version = metrics.workflow('w').version(1);
    const node = metrics.workflow('w').node('verify', 'jwt-verify');
    for (let i = 0; i < 10_000; i++) {
      node.ran(0.00001, 'ok', `partner-${i}`);
      version.request(`partner-${i}`, 'ok', 200, 0.001, undefined, Date.now());
    }
    version.request('acme', 'ok', 200, 0.001, undefined, Date.now());
    const list = samples(await metrics.text());
    const partners = new Set(list.filter((s) => s.name === 'sluice_requests_total').map((s) => s.labels.partner));
    expect(partners.size).toBe(22); // acme, 20 first seen, other
    expect(partners.has(OTHER_PARTNER)).toBe(true);
    expect(partners.has('acme')).toBe(true);
    expect(sum(list, 'sluice_requests_total')).toBe(10_001);
    expect(sum(list, 'sluice_requests_total', { partner: OTHER_PARTNER })).toBe(10_000 - 20);
    expect(node.partnerLabels).toBe(21); // 20 first seen, other (acme never ran through this node)
  });

  it('through the gateway: partners beyond the bound are counted as other', async () => {
    const setup = await createTestIssuerWorkflows({ SLUICE_METRICS_PARTNER_LIMIT: '5' });
    try {
      for (let i = 0; i < 12; i++) {
        const token = await setup.issuer.sign({ sub: `user-${i}`, azp: `partner-${i}`, scope: 'orders:read' });
        await setup.gw.fetch('/obs/plain', { headers: bearer(token) });
      }
      const list = samples(await (await setup.gw.fetch('/metrics', { headers: bearer(setup.adminToken) })).text());
      const partners = new Set(list.filter((s) => s.name === 'sluice_requests_total' && s.labels.workflow === 'obs-plain').map((s) => s.labels.partner));
      expect(partners).toEqual(new Set(['partner-0', 'partner-1', 'partner-2', 'partner-3', 'partner-4', OTHER_PARTNER]));
      expect(sum(list, 'sluice_requests_total', { workflow: 'obs-plain', partner: OTHER_PARTNER })).toBe(7);
    } finally {
      await setup.close();
    }
  });
});

describe('metrics port and OTLP export', () => {
  let collector: Server;
  const received: Array<{ headers: Record<string, unknown>; body: { resourceSpans: Array<{ resource: { attributes: unknown[] }; scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> } }> = [];
  let setup: ObservedSetup;

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') received.push({ headers: req.headers, body: JSON.parse(text) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    setup = await createTestIssuerWorkflows({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=collector-secret', OTEL_SERVICE_NAME: 'sluice-test', SLUICE_METRICS_PORT: '0' });
  });

  afterAll(async () => {
    await setup?.close();
    await new Promise<void>((resolve) => collector.close(() => resolve()));
  });

  it('serves /metrics without a token on its own port', async () => {
    const url = setup.gw.sluice.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE sluice_requests_total counter');
  });

  it('exports a server span per request and a child span per node', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await setup.gw.fetch('/obs/orders', { headers: { ...bearer(setup.tokens.acme), traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    expect(res.status).toBe(200);
    const upstreamSaw = setup.upstream.received.at(-1)!.headers.traceparent;
    const llmTrace = '1af7651916cd43dd8448eb211c80319d';
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How many tokens is this prompt?' }] };
    const llm = await setup.gw.fetch('/obs/llm/v1/chat/completions', { method: 'POST', headers: { ...bearer(setup.tokens.acme), 'content-type': 'application/json', traceparent: `00-${llmTrace}-b7ad6b7169203332-01` }, body: JSON.stringify(chat) });
    expect(llm.status).toBe(200);
    await llm.arrayBuffer();
    // the request is done (its span queued) once its log line is written: the estimate is counted after the answer
    // (the first estimate loads the tokenizer's ranks: seconds on a loaded CI machine, past waitFor's default second)
    await vi.waitFor(() => expect(setup.gw.logs.some((l) => l.msg === 'request' && l.workflow === 'obs-llm')).toBe(true), { timeout: 15_000 });
    await setup.gw.sluice.close(); // close flushes the exporter
    const spans = received.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    expect(received[0]!.headers['x-api-key']).toBe('collector-secret');
    expect(received[0]!.body.resourceSpans[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'sluice-test' } });
    const server = spans.find((s) => s.traceId === traceId && s.kind === 2)!;
    expect(server).toMatchObject({ parentSpanId: 'b7ad6b7169203331', name: 'GET /obs/orders' });
    expect(server.attributes).toContainEqual({ key: 'http.response.status_code', value: { intValue: '200' } });
    expect(server.attributes).toContainEqual({ key: 'sluice.partner', value: { stringValue: 'acme' } });
    const children = spans.filter((s) => s.parentSpanId === server.spanId);
    expect(children.map((s) => s.name)).toEqual(['verify', 'scopes', 'limit', 'call']);
    for (const child of children) {
      expect(child.traceId).toBe(traceId);
      expect(BigInt(child.startTimeUnixNano as string)).toBeGreaterThanOrEqual(BigInt(server.startTimeUnixNano as string));
      expect(BigInt(child.endTimeUnixNano as string)).toBeLessThanOrEqual(BigInt(server.endTimeUnixNano as string));
    }
    // the upstream saw the gateway span as its parent, in the same trace
    expect(upstreamSaw).toBe(`00-${traceId}-${server.spanId}-01`);
    const logged = JSON.stringify(setup.gw.logs);
    expect(logged).not.toContain('collector-secret');
    // an LLM call's span carries OpenTelemetry's gen_ai attributes: provider, model, tokens (estimated: the echo says no usage)
    const llmSpan = spans.find((s) => s.traceId === llmTrace && s.kind === 2)!;
    const attributes = new Map((llmSpan.attributes as Array<{ key: string; value: Record<string, unknown> }>).map((a) => [a.key, Object.values(a.value)[0]]));
    expect(attributes.get('gen_ai.system')).toBe('openai');
    expect(attributes.get('gen_ai.request.model')).toBe('gpt-4o-mini');
    expect(Number(attributes.get('gen_ai.usage.input_tokens'))).toBeGreaterThan(0);
    expect(attributes.get('gen_ai.usage.output_tokens')).toBe('0'); // the echo answers no choices: nothing written out
    expect(attributes.get('sluice.llm.estimated')).toBe(true);
  });
});

describe('bodies are never logged', () => {
  it('a distinctive string in a request body, a refused body, a malformed one, an oversized one and an answer body appears in no log line', async () => {
    const { startGateway, workflow, portNode } = await import('../../helpers/workflow.ts');
    const { startUpstream } = await import('../../helpers/upstream.ts');
    const MARK = `body-marker-${Math.random().toString(36).slice(2)}`;
    const upstream = await startUpstream((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ answer: `${MARK}-answer` })));
    const gw = await startGateway(
      [
        workflow('body-proxy', { path: '/body/proxy', methods: ['POST'] }, [{ id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }]),
        workflow('body-checked', { path: '/body/checked', methods: ['POST'] }, [{ id: 'check', kind: 'validate-request', config: { body: { type: 'object', properties: { note: { type: 'string', maxLength: 5 } }, required: ['note'] } } }, portNode('ok')], [['check', 'ok', 'ok']]),
        workflow('body-read', { path: '/body/read', methods: ['POST'] }, [{ id: 'shape', kind: 'transform-request', config: { body: '{ "n": $length(request.body.note) }' } }, portNode('ok')], [['shape', 'ok', 'ok']]),
      ],
      { env: { UPSTREAM: upstream.url }, settings: { SLUICE_MAX_BODY: '16kb' } },
    );
    try {
      const post = (path: string, body: string, type = 'application/json') => gw.fetch(path, { method: 'POST', headers: { 'content-type': type }, body });
      const answers = [
        await post('/body/proxy', JSON.stringify({ note: MARK })), // forwarded, and its answer carries the mark too
        await post('/body/checked', JSON.stringify({ note: MARK })), // refused by the schema: the value is too long
        await post('/body/checked', `{"note": "${MARK}", broken`), // not JSON
        await post('/body/read', `{"note": ${MARK}}`), // not JSON, read by an expression
        await post('/body/read', JSON.stringify({ note: `${MARK} `.repeat(1_000) })), // over SLUICE_MAX_BODY, for a node that reads it
      ];
      const texts = await Promise.all(answers.map((res) => res.text()));
      expect(answers.map((res) => res.status)).toEqual([200, 422, 400, 400, 413]);
      expect(texts[0]).toContain(`${MARK}-answer`); // the mark went through the gateway both ways
      expect(upstream.received.at(-1)?.body).toContain(MARK);
      // a positive signal first: every one of those requests has its log line
      await vi.waitFor(() => expect(gw.logs.filter((l) => l.msg === 'request' && String(l.route).startsWith('/body/'))).toHaveLength(answers.length), { timeout: 15_000 });
      expect(JSON.stringify(gw.logs)).not.toContain(MARK);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

describe('fields a workflow opts in to log', () => {
  it('logs exactly the named fields, after the answer, and a failing field as null', async () => {
    const { startGateway, workflow } = await import('../../helpers/workflow.ts');
    const doc = {
      ...workflow('logged', { path: '/logged/:id' }, [{ id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } }]),
      log: { fields: { orderId: 'request.params.id', client: "request.headers.'x-client'", status: 'response.status', broken: '$error("nope")' } },
    };
    const gw = await startGateway([doc]);
    try {
      const res = await gw.fetch('/logged/o-42', { headers: { 'x-client': 'mobile', authorization: 'Bearer not-logged-token', cookie: 'session=secret-cookie' } });
      expect(res.status).toBe(200);
      // written once the fields are evaluated; `$error` is off the compiled fast path, so in an expression worker
      const deadline = Date.now() + 15_000;
      while (!gw.logs.some((l) => l.msg === 'request' && l.workflow === 'logged') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const line = gw.logs.find((l) => l.msg === 'request' && l.workflow === 'logged')!;
      expect(line.fields).toEqual({ orderId: 'o-42', client: 'mobile', status: 200, broken: null, brokenError: 'expression failed (D3137)' });
      const text = JSON.stringify(gw.logs);
      expect(text).not.toContain('not-logged-token');
      expect(text).not.toContain('secret-cookie');
    } finally {
      await gw.close();
    }
  });

  it('refuses a log field whose expression does not parse, naming the field', async () => {
    const { validateWorkflow } = await import('../../../shared/compile/index.ts');
    const { workflow } = await import('../../helpers/workflow.ts');
    const result = validateWorkflow({ ...workflow('w', { path: '/w' }, [{ id: 'a', kind: 'respond', config: { status: 204 } }]), log: { fields: { bad: 'request.(' } } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([expect.objectContaining({ code: 'expression_syntax', field: 'log.fields.bad' })]);
  });
});

describe('Redis health in the metrics', () => {
  it('reports the store connection and the rate-limit store as up', async () => {
    const { deletePrefix, SHARED_REDIS_URL, testPrefix } = await import('../../helpers/redis.ts');
    const prefix = testPrefix('metrics');
    const setup = await createTestIssuerWorkflows({ REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix });
    try {
      expect((await setup.gw.fetch('/obs/orders', { headers: bearer(setup.tokens.acme) })).status).toBe(200);
      const list = samples(await (await setup.gw.fetch('/metrics', { headers: bearer(setup.adminToken) })).text());
      expect(sum(list, 'sluice_redis_connected', { connection: 'store' })).toBe(1);
      expect(sum(list, 'sluice_rate_limit_store_up', { state: 'up' })).toBe(1);
      expect(list.filter((s) => s.name === 'sluice_rate_limit_store_down_decisions_total').map((s) => s.labels.choice).sort()).toEqual(['allow', 'deny', 'local']);
      expect(sum(list, 'sluice_rate_limit_store_down_decisions_total')).toBe(0);
    } finally {
      await setup.close();
      await deletePrefix(SHARED_REDIS_URL, prefix);
    }
  });
});

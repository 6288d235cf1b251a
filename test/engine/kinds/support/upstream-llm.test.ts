import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runServedNode, type TestGateway } from '../../../helpers/gateway.ts';
import { scrapeBy } from '../../../helpers/metrics.ts';
import { startUpstream, type TestUpstream } from '../../../helpers/upstream.ts';
import { expectProblem, startGateway, workflow } from '../../../helpers/workflow.ts';
import { AnswerUsage } from '../../../../engine/kinds/support/upstream-llm.ts';
import type { SyntheticRequest } from '../../../../engine/gateway/exchange.ts';
import { deadUrl } from '../fixtures.ts';

/**
 * The proxy's llm option against a local OpenAI-compatible (and an Anthropic-shaped) upstream,
 * driven by the real `openai` client: usage read from answers whole and streamed, estimated when
 * the upstream says none, the model allow-list, and streamed chunks reaching the client while
 * the upstream still holds the rest back.
 */

const ADMIN_TOKEN = 'llm-admin-token-0123456789abcdef';

/** A gate the upstream waits at before the rest of a stream: the test opens it. */
interface Gate {
  open(): void;
  opened: Promise<void>;
  /** The upstream sent what came after the gate. */
  passed: boolean;
}
function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened, passed: false };
}

const sse = (res: ServerResponse, data: unknown, event?: string) => res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
const chunk = (model: string, content: string) => ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] });

describe('proxy with llm (upstream-llm)', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let held: Gate | undefined;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const body = JSON.parse(req.bodyText || '{}') as Record<string, unknown>;
      const model = String(body.model);
      if (req.url === '/v1/chat/completions' && body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        sse(res, chunk(model, 'Hello'));
        const rest = () => {
          if (held) held.passed = true;
          sse(res, chunk(model, ', world. How are you today?'));
          if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) sse(res, { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 13, completion_tokens: 8, total_tokens: 21 } });
          sse(res, '[DONE]');
          res.end();
        };
        if (held) void held.opened.then(rest);
        else rest();
        return;
      }
      if (req.url === '/v1/chat/completions') {
        const answer = { id: 'chatcmpl-2', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, how can I help?' }, finish_reason: 'stop' }], ...(model === 'no-usage' ? {} : { usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } }) };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        return;
      }
      if (req.url === '/v1/embeddings') {
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        const vector = [0.25, -0.5, 1];
        const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: inputs.map((_, index) => ({ object: 'embedding', index, embedding })), model, usage: { prompt_tokens: 6, total_tokens: 6 } }));
        return;
      }
      if (req.url === '/v1/messages' && body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        sse(res, { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: 30, output_tokens: 1 } } }, 'message_start');
        sse(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start');
        sse(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Bonjour' } }, 'content_block_delta');
        sse(res, { type: 'content_block_stop', index: 0 }, 'content_block_stop');
        sse(res, { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 17 } }, 'message_delta');
        sse(res, { type: 'message_stop' }, 'message_stop');
        res.end();
        return;
      }
      if (req.url === '/v1/messages') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'msg_2', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'Bonjour' }], stop_reason: 'end_turn', usage: { input_tokens: 21, cache_read_input_tokens: 4, output_tokens: 9 } }));
        return;
      }
      res.writeHead(404).end();
    });
    const openai = { api: 'openai', models: ['gpt-4o*', 'text-embedding-3-small', 'no-usage'] };
    gw = await startGateway(
      [
        workflow('llm-openai', { path: '/openai/*', methods: ['GET', 'POST'] }, [{ id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: '/openai', llm: openai } }]),
        workflow('llm-any', { path: '/any/*', methods: ['POST'] }, [{ id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: '/any', llm: { api: 'openai' } } }]),
        workflow('llm-resilient', { path: '/resilient/*', methods: ['POST'] }, [{ id: 'call', kind: 'proxy', config: { targets: [{ url: '${SLUICE_UPSTREAM_LLM}' }], retries: 1, retryUnsafe: true, stripPrefix: '/resilient', llm: { api: 'openai', models: ['gpt-4o*'] } } }]),
        workflow('llm-raw', { path: '/raw/*', methods: ['POST'] }, [{ id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: '/raw', llm: { api: 'openai', estimate: false } } }]),
        workflow(
          'llm-usage',
          { path: '/usage/*', methods: ['POST'] },
          [
            { id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: '/usage', llm: openai } },
            { id: 'say', kind: 'respond', config: { bodyExpression: '{ "model": llm.model, "stream": llm.stream, "usage": llm.usage, "answer": response.body }' } },
            { id: 'denied', kind: 'respond', config: { status: 400, body: { denied: true } } },
          ],
          [['call', 'ok', 'say'], ['call', 'model_denied', 'denied']],
        ),
        workflow(
          'llm-header',
          { path: '/header/*', methods: ['POST'] },
          [
            { id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: '/header', llm: openai } },
            { id: 'mark', kind: 'transform-response', config: { headers: '{ "x-llm-total": $string(llm.usage.total) & " " & $string(llm.usage.estimated) }' } },
          ],
          [['call', 'ok', 'mark']],
        ),
        workflow('llm-down', { path: '/down/*', methods: ['POST'] }, [{ id: 'call', kind: 'proxy', config: { url: '${DOWN}', stripPrefix: '/down', llm: openai } }]),
        workflow(
          'llm-shaped',
          { path: '/shaped/*', methods: ['POST'] },
          [
            { id: 'shape', kind: 'transform-request', config: { body: '$merge([request.body, { "user": "shaped" }])' } },
            { id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: '/shaped', llm: openai } },
          ],
          [['shape', 'ok', 'call']],
        ),
        workflow('llm-anthropic', { path: '/anthropic/*', methods: ['POST'] }, [{ id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: '/anthropic', llm: { api: 'anthropic', models: ['claude-*'] } } }]),
      ],
      { env: { SLUICE_UPSTREAM_LLM: upstream.url, DOWN: await deadUrl() }, settings: { SLUICE_ADMIN_TOKENS: `ops:admin:${ADMIN_TOKEN}` } },
    );
    client = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: 'sk-test-not-a-secret', maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  /** The request log line of the request that reached the upstream with `marker` in its body. */
  async function logOf(workflowId: string, count = 1): Promise<Array<Record<string, unknown>>> {
    let lines: Array<Record<string, unknown>> = [];
    await vi.waitFor(() => {
      lines = gw.logs.filter((l) => l.msg === 'request' && l.workflow === workflowId);
      expect(lines.length).toBeGreaterThanOrEqual(count);
    }, { timeout: 9_000 }); // a first count builds the tokenizer in its worker
    return lines;
  }

  const tokens = (labels: Record<string, string>) => scrapeBy(gw, ADMIN_TOKEN, 'sluice_llm_tokens_total', labels, 'direction');

  it('a chat completion through the openai client: the answer as the upstream gave it, its usage in the log and the metrics', async () => {
    const before = await tokens({ model: 'gpt-4o-mini', partner: 'none', product: 'none' });
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(answer.choices[0]!.message.content).toBe('Hello there, how can I help?');
    expect(answer.usage).toEqual({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    const [line] = (await logOf('llm-openai')).slice(-1);
    expect(line!.llm).toEqual({ model: 'gpt-4o-mini', input: 11, output: 7, estimated: false });
    const after = await tokens({ model: 'gpt-4o-mini', partner: 'none', product: 'none' });
    expect((after.input ?? 0) - (before.input ?? 0)).toBe(11);
    expect((after.output ?? 0) - (before.output ?? 0)).toBe(7);
    // the llm proxy asks for the answer uncompressed, to read its usage
    expect(upstream.received.at(-1)!.headers['accept-encoding']).toBeUndefined();
  });

  it('later nodes read llm.model and llm.usage from the context (fast path and worker)', async () => {
    const res = await gw.fetch('/usage/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; stream: boolean; usage: unknown; answer: { choices: unknown[] } };
    expect(body).toMatchObject({ model: 'gpt-4o', stream: false, usage: { input: 11, output: 7, total: 18, estimated: false } });
    expect(body.answer.choices).toHaveLength(1);

    const marked = await gw.fetch('/header/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(marked.status).toBe(200);
    expect(marked.headers.get('x-llm-total')).toBe('18 false');
  });

  it('a streamed answer read by a later node is read whole: its final usage chunk counts', async () => {
    const res = await gw.fetch('/usage/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model: 'gpt-4o', stream: true, usage: { input: 13, output: 8, total: 21, estimated: false } });
  });

  it('embeddings through the openai client: prompt tokens in, none out', async () => {
    const answer = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    expect(answer.data).toHaveLength(2);
    expect(answer.data[0]!.embedding).toEqual([0.25, -0.5, 1]);
    const [line] = (await logOf('llm-openai')).slice(-1);
    expect(line!.llm).toEqual({ model: 'text-embedding-3-small', input: 6, output: 0, estimated: false });
  });

  it('streams chunk by chunk: the client reads the first chunk while the upstream still holds the rest back', async () => {
    held = gate();
    try {
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }] });
      const texts: string[] = [];
      let usage: unknown;
      let first = true;
      for await (const part of stream) {
        if (first) {
          first = false;
          // the first chunk is here, and the upstream has not sent the second: nothing buffered it
          expect(part.choices[0]!.delta.content).toBe('Hello');
          expect(held.passed).toBe(false);
          held.open();
        }
        for (const choice of part.choices) if (choice.delta.content) texts.push(choice.delta.content);
        if (part.usage) usage = part.usage;
      }
      expect(held.passed).toBe(true);
      expect(texts.join('')).toBe('Hello, world. How are you today?');
      expect(usage).toEqual({ prompt_tokens: 13, completion_tokens: 8, total_tokens: 21 });
    } finally {
      held.open();
      held = undefined;
    }
    // known once the stream ended: in the log and the metrics
    await vi.waitFor(async () => {
      const [line] = (await logOf('llm-openai')).slice(-1);
      expect(line!.llm).toEqual({ model: 'gpt-4o-mini', input: 13, output: 8, estimated: false });
    });
  });

  it('estimates usage when the upstream says none (a stream without include_usage, an answer without usage), and marks it', async () => {
    // the count runs in a worker after the answer: wait for this request's own line
    const logged = (id: string) => gw.logs.filter((l) => l.msg === 'request' && l.workflow === id).length;
    let before = logged('llm-openai');
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello to the whole wide world' }] });
    let text = '';
    for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello, world. How are you today?');
    let [line] = (await logOf('llm-openai', before + 1)).slice(-1);
    const streamed = line!.llm as { input: number; output: number; estimated: boolean };
    expect(streamed.estimated).toBe(true);
    expect(streamed.input).toBeGreaterThan(0);
    expect(streamed.output).toBeGreaterThan(0);

    before = logged('llm-openai');
    const answer = await client.chat.completions.create({ model: 'no-usage', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(answer.usage).toBeUndefined();
    [line] = (await logOf('llm-openai', before + 1)).slice(-1);
    expect(line!.llm).toMatchObject({ model: 'no-usage', estimated: true });
    expect((line!.llm as { output: number }).output).toBeGreaterThan(0);
    const counted = await tokens({ model: 'no-usage' });
    expect(counted.output).toBeGreaterThan(0);

    // estimate: false leaves the usage to the upstream: none said, none recorded
    const raw = await gw.fetch('/raw/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'no-usage', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(raw.status).toBe(200);
    await raw.text();
    [line] = (await logOf('llm-raw')).slice(-1);
    expect(line!.llm).toEqual({ model: 'no-usage' });
  });

  it('refuses a model outside the allow-list with 403 model_not_allowed, without calling the upstream', async () => {
    const calls = upstream.received.length;
    const refused = await client.chat.completions.create({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    const res = await gw.fetch('/openai/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-3.5-turbo', messages: [] }) });
    await expectProblem(res, 403, 'model-not-allowed', '"gpt-3.5-turbo"');
    // no model at all is refused too; a request without a body (the model list) passes
    await expectProblem(await gw.fetch('/openai/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [] }) }), 403, 'model-not-allowed', '(none named)');
    await expectProblem(await gw.fetch('/openai/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'model=gpt-4o' }), 403, 'model-not-allowed');
    expect(upstream.received.length).toBe(calls);
    expect((await gw.fetch('/openai/v1/models')).status).toBe(404); // the upstream's own answer: it was called
    expect(upstream.received.length).toBe(calls + 1);
    // a wired model_denied port takes the refusal
    const wired = await gw.fetch('/usage/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'o1', messages: [] }) });
    expect(wired.status).toBe(400);
    expect(await wired.json()).toEqual({ denied: true });
  });

  it('a repeated "model" member cannot smuggle a model past the allow-list: the upstream gets the JSON the gateway checked', async () => {
    // the gateway reads the last member (JSON.parse); a parser that reads the first would see another
    await expectProblem(await gw.fetch('/openai/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o","model":"o1-pro","messages":[]}' }), 403, 'model-not-allowed');
    const res = await gw.fetch('/openai/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"o1-pro","model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}' });
    expect(res.status).toBe(200);
    await res.text();
    const sent = upstream.received.at(-1)!;
    expect(sent.body).toBe('{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}');
    expect(sent.headers['content-length']).toBe(String(Buffer.byteLength(sent.body)));
  });

  it('sends the bytes as received when nothing was checked: no allow-list, or no body to check', async () => {
    const written = '{ "model" : "any-model",\n  "messages": [] }';
    const res = await gw.fetch('/any/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: written });
    await res.text();
    expect(upstream.received.at(-1)!.body).toBe(written);
    for (const type of ['text/plain', 'application/json']) {
      const empty = await gw.fetch('/openai/v1/chat/completions', { method: 'POST', headers: { 'content-type': type }, body: '' });
      await empty.text();
      expect(upstream.received.at(-1)!).toMatchObject({ url: '/v1/chat/completions', body: '' });
    }
  });

  it('sends a body a transform replaced, checked against the allow-list, not the one the client sent', async () => {
    const res = await gw.fetch('/shaped/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{ "model": "gpt-4o", "messages": [] }' });
    expect(res.status).toBe(200);
    await res.text();
    expect(JSON.parse(upstream.received.at(-1)!.body)).toEqual({ model: 'gpt-4o', messages: [], user: 'shaped' });
  });

  it('counts a call the upstream never answered: the prompt\'s estimate, in the log', async () => {
    await expectProblem(await gw.fetch('/down/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hello to everyone in the room' }] }) }), 502, 'upstream-unavailable');
    const [line] = (await logOf('llm-down')).slice(-1);
    expect(line!.llm).toMatchObject({ model: 'gpt-4o', output: 0, estimated: true });
    expect((line!.llm as { input: number }).input).toBeGreaterThan(0);
  });

  describe('on an exchange that cannot write to a client (MCP tools, previews)', () => {
    const run = (workflowId: string, request: SyntheticRequest) => runServedNode(gw, workflowId, 'call', request);

    it('hands the streamed answer on as it came, and records the usage it reported when the stream ends', async () => {
      const body = { model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] };
      const { result, exchange } = await run('llm-openai', { method: 'POST', url: '/openai/v1/chat/completions', body });
      expect(result).toBe('ok');
      const chunks: Buffer[] = [];
      for await (const chunk of exchange.response!.stream as AsyncIterable<Buffer>) chunks.push(chunk);
      expect(Buffer.concat(chunks).toString('utf8')).toContain('data: [DONE]');
      await exchange.llm!.settled;
      expect(exchange.llm!.usage).toEqual({ input: 13, output: 8, total: 21, estimated: false });
    });

    it('lets a request without a body through the allow-list (the model list)', async () => {
      const { result, exchange } = await run('llm-openai', { method: 'GET', url: '/openai/v1/models' });
      expect(result).toBe('ok');
      expect(exchange.upstreamStatus).toBe(404); // the upstream's own answer: it was called
    });

    it('counts the prompt\'s estimate of a call the upstream never answered', async () => {
      const { result, exchange } = await run('llm-down', { method: 'POST', url: '/down/v1/chat/completions', body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hello to everyone in the room' }] } });
      expect(result).toBe('error');
      expect(exchange.llm!.usage).toMatchObject({ output: 0, estimated: true });
      expect(exchange.llm!.usage!.input).toBeGreaterThan(0);
    });
  });

  it('bounds the model label: callers naming 55 models make at most 50 values and "other"', async () => {
    for (let i = 0; i < 55; i++) {
      const res = await gw.fetch('/any/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: `made-up-${i}`, messages: [] }) });
      expect(res.status).toBe(200);
      await res.text();
    }
    const res = await gw.fetch('/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const models = new Set([...(await res.text()).matchAll(/^sluice_llm_tokens_total\{[^}]*model="([^"]*)"/gm)].map((m) => m[1]));
    models.delete('none'); // calls that named no model (a body-less POST)
    expect(models.size).toBeLessThanOrEqual(51);
    expect(models.has('other')).toBe(true);
  });

  it('a proxy with targets and retries reads usage the same way, streamed and not, and checks the model', async () => {
    const resilient = new OpenAI({ baseURL: `${gw.url}/resilient/v1`, apiKey: 'sk-test-not-a-secret', maxRetries: 0 });
    await resilient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    let [line] = (await logOf('llm-resilient')).slice(-1);
    expect(line!.llm).toEqual({ model: 'gpt-4o', input: 11, output: 7, estimated: false });
    const stream = await resilient.chat.completions.create({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    for await (const _part of stream) void _part;
    [line] = (await logOf('llm-resilient', 2)).slice(-1);
    expect(line!.llm).toEqual({ model: 'gpt-4o', input: 13, output: 8, estimated: false });
    const calls = upstream.received.length;
    await expectProblem(await gw.fetch('/resilient/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'o3', messages: [] }) }), 403, 'model-not-allowed');
    expect(upstream.received.length).toBe(calls);
  });

  it('an Anthropic-shaped upstream: messages whole and streamed, usage from usage, message_start and message_delta', async () => {
    const call = (stream: boolean) =>
      fetch(`${gw.url}/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'not-a-secret' }, body: JSON.stringify({ model: 'claude-sonnet-4', max_tokens: 100, system: 'Be brief', stream, messages: [{ role: 'user', content: [{ type: 'text', text: 'Bonjour?' }] }] }) });
    const whole = await call(false);
    expect(whole.status).toBe(200);
    expect(await whole.json()).toMatchObject({ content: [{ text: 'Bonjour' }] });
    let [line] = (await logOf('llm-anthropic')).slice(-1);
    expect(line!.llm).toEqual({ model: 'claude-sonnet-4', input: 25, output: 9, estimated: false });

    const streamed = await call(true);
    expect(streamed.headers.get('content-type')).toBe('text/event-stream');
    expect(await streamed.text()).toContain('"text":"Bonjour"');
    [line] = (await logOf('llm-anthropic', 2)).slice(-1);
    expect(line!.llm).toEqual({ model: 'claude-sonnet-4', input: 30, output: 17, estimated: false });

    const refused = await fetch(`${gw.url}/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', max_tokens: 1, messages: [] }) });
    await expectProblem(refused, 403, 'model-not-allowed');
  });
});

/** Feeds `text` to a reader in pieces of `size` bytes (a multi-byte character may be cut). */
function feedInPieces(usage: AnswerUsage, text: string, size: number): AnswerUsage {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) usage.feed(bytes.subarray(i, i + size));
  usage.end();
  return usage;
}

describe('AnswerUsage: usage read as the answer passes', () => {
  const SSE = { 'content-type': 'text/event-stream; charset=utf-8' };
  const JSON_TYPE = { 'content-type': 'application/json' };
  const stream = [
    `data: ${JSON.stringify(chunk('m', 'Grüße, '))}`,
    `data: ${JSON.stringify(chunk('m', 'wörld'))}`,
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } })}`,
    'data: [DONE]',
  ].join('\r\n\r\n');

  it.each([1, 2, 3, 7, 64, 100_000])('an SSE stream cut every %i bytes: usage and text whole', (size) => {
    const usage = feedInPieces(new AnswerUsage(SSE), stream, size);
    expect(usage.seen).toEqual({ input: 5, output: 4, total: 9 });
    expect(usage.text.texts.join('')).toBe('Grüße, wörld');
  });

  it('a Responses API stream: output_text deltas and the usage of response.completed', () => {
    const events = [
      ['response.created', { type: 'response.created', response: { id: 'r', status: 'in_progress', usage: null } }],
      ['response.output_text.delta', { type: 'response.output_text.delta', item_id: 'm', output_index: 0, content_index: 0, delta: 'Bon' }],
      ['response.output_text.delta', { type: 'response.output_text.delta', item_id: 'm', output_index: 0, content_index: 0, delta: 'jour' }],
      ['response.completed', { type: 'response.completed', response: { id: 'r', status: 'completed', usage: { input_tokens: 12, output_tokens: 3, total_tokens: 15 } } }],
    ].map(([event, data]) => `event: ${event as string}\ndata: ${JSON.stringify(data)}`).join('\n\n');
    const usage = feedInPieces(new AnswerUsage(SSE), events, 13);
    expect(usage.seen).toEqual({ input: 12, output: 3, total: 15 });
    expect(usage.text.texts.join('')).toBe('Bonjour');
  });

  it('skips an SSE line longer than the line bound and reads the lines after it', () => {
    const usage = new AnswerUsage(SSE);
    usage.feed(Buffer.from(`data: {"choices":[{"delta":{"content":"${'x'.repeat(70 * 1024)}`));
    usage.feed(Buffer.from(`${'y'.repeat(10)}"}}]}\n\ndata: {"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\n`));
    usage.end();
    expect(usage.seen).toEqual({ input: 1, output: 2, total: undefined });
    expect(usage.text.kept).toBe(0);
  });

  it.each([1, 5, 13, 100_000])('a JSON answer cut every %i bytes: top-level usage and texts, not look-alikes nested or in strings', (size) => {
    const answer = JSON.stringify({
      id: 'x',
      note: '"usage": {"prompt_tokens": 999}, }',
      meta: { usage: { prompt_tokens: 888, completion_tokens: 888 } },
      choices: [{ index: 0, message: { role: 'assistant', content: 'He said "hi" {not json}' } }],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    });
    const usage = feedInPieces(new AnswerUsage(JSON_TYPE), answer, size);
    expect(usage.seen).toEqual({ input: 12, output: 3, total: 15 });
    expect(usage.text.texts).toEqual(['He said "hi" {not json}']);
  });

  it('keeps at most 256 KB of a JSON member: a larger one is dropped, the usage after it still read', () => {
    const answer = JSON.stringify({ choices: [{ message: { content: 'z'.repeat(300 * 1024) } }], usage: { input_tokens: 7, output_tokens: 1 } });
    const usage = feedInPieces(new AnswerUsage(JSON_TYPE), answer, 16 * 1024);
    expect(usage.seen).toEqual({ input: 7, output: 1, total: undefined });
    expect(usage.text.kept).toBe(0);
  });

  it('reads nothing of a compressed or untyped answer', () => {
    const body = JSON.stringify({ usage: { prompt_tokens: 1, completion_tokens: 1 } });
    expect(feedInPieces(new AnswerUsage({ ...JSON_TYPE, 'content-encoding': 'gzip' }), body, 100).seen.input).toBeUndefined();
    expect(feedInPieces(new AnswerUsage({}), body, 100).seen.input).toBeUndefined();
  });
});

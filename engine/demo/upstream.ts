import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const ORDERS = [
  { id: 'ord-1001', customer: 'acme', total: 129.5, currency: 'EUR', status: 'shipped', internalNote: 'priority lane' },
  { id: 'ord-1002', customer: 'acme', total: 42, currency: 'EUR', status: 'processing', internalNote: 'gift wrap' },
  { id: 'ord-1003', customer: 'globex', total: 980, currency: 'USD', status: 'delivered', internalNote: 'fragile' },
];

/** What the demo assistant says: the words of the last user message, counted. */
function demoReply(body: { messages?: Array<{ role?: string; content?: unknown }> }): string {
  const last = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  const text = typeof last?.content === 'string' ? last.content : '';
  const words = text.split(/\s+/).filter(Boolean).length;
  return `This is the demo model. Your message had ${words} word${words === 1 ? '' : 's'}; it reached me as: ${text.slice(0, 200)}`;
}

/** A token count good enough for a demo: a token per 4 characters. */
const demoTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/**
 * An OpenAI-compatible chat completion (`POST /v1/chat/completions`) for the AI example: the
 * answer is a fixed sentence about the prompt, whole or streamed (SSE, word by word, with a
 * last usage chunk when `stream_options.include_usage` asks for it).
 */
function demoChat(body: Record<string, unknown>, res: ServerResponse): void {
  const model = typeof body.model === 'string' ? body.model : 'demo-mini';
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
  const reply = demoReply(body as { messages?: Array<{ role?: string; content?: unknown }> });
  const prompt = demoTokens(messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join(' '));
  const usage = { prompt_tokens: prompt, completion_tokens: demoTokens(reply), total_tokens: prompt + demoTokens(reply) };
  const created = Math.floor(Date.now() / 1000);
  if (body.stream !== true) {
    const text = JSON.stringify({ id: 'chatcmpl-demo', object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }], usage });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const event = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  for (const word of reply.split(/(?<= )/)) event({ id: 'chatcmpl-demo', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] });
  event({ id: 'chatcmpl-demo', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  if ((body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true) event({ id: 'chatcmpl-demo', object: 'chat.completion.chunk', created, model, choices: [], usage });
  res.end('data: [DONE]\n\n');
}

/**
 * A small upstream for the embedded default: an orders service on 127.0.0.1 at a port the
 * system picks, so several gateways run side by side. It also echoes what it received, and
 * answers chat completions as a demo language model.
 */
export async function startDemoUpstream(listen: { port?: number; host?: string } = {}): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (url.pathname === '/orders') return send(200, { orders: ORDERS });
    const one = /^\/orders\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const order = ORDERS.find((o) => o.id === decodeURIComponent(one[1]!));
      return order ? send(200, order) : send(404, { message: 'no such order' });
    }
    if (url.pathname === '/v1/chat/completions' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        if (body === null || typeof body !== 'object' || Array.isArray(body)) return send(400, { error: { message: 'the body is no JSON object', type: 'invalid_request_error' } });
        demoChat(body as Record<string, unknown>, res);
      });
      return;
    }
    if (url.pathname.startsWith('/echo')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => send(200, { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
      return;
    }
    send(404, { message: 'not found' });
  });
  server.keepAliveTimeout = 30_000;
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

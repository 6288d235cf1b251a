// The benchmark's upstream: answers every request 200 with a fixed small JSON body.
// Kept trivial so that it costs far less than whatever proxy sits in front of it.
// POST /introspect plays the authorization server of sluice-i (RFC 7662): every token is active
// for the bench's partner, for two hours; the gateway asks once and answers from its cache after.
// POST /v1/chat/completions plays an OpenAI-compatible LLM for sluice-l (whole and streamed answers).
// POST /mcp plays an MCP server answering a tools/call (sluice-mcp).
// Prints `LISTENING <port>` on stdout once bound, which run.ts waits for.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = Buffer.from(JSON.stringify({ orders: [{ id: 1, total: 42 }, { id: 2, total: 7 }] }));
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

/** An OpenAI-style chat completion with its usage (sluice-l, the llm proxy). */
const CHAT = Buffer.from(JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'bench-model', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench upstream.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } }));
const CHAT_HEADERS = { 'content-type': 'application/json', 'content-length': String(CHAT.length) };
const chunk = (content: string) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench-model', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
/** How long a streamed answer holds the rest back after its first chunk: time to first chunk is not time to the end. */
const STREAM_REST_MS = 5;

/** POST /v1/chat/completions: the whole answer, or (`"stream":true`) a first chunk at once and the rest after STREAM_REST_MS. */
function chat(body: string, res: import('node:http').ServerResponse): void {
  if (!body.includes('"stream":true')) {
    res.writeHead(200, CHAT_HEADERS);
    res.end(CHAT);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(chunk('Hello'));
  setTimeout(() => {
    res.write(chunk(' from the bench upstream.'));
    res.write(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench-model', choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } })}\n\ndata: [DONE]\n\n`);
    res.end();
  }, STREAM_REST_MS);
}

/** A JSON-RPC answer to sluice-mcp's tools/call. */
const MCP_ANSWER = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'order 1: total 42' }], isError: false } }));
const MCP_HEADERS = { 'content-type': 'application/json', 'content-length': String(MCP_ANSWER.length) };

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/mcp') {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, MCP_HEADERS);
      res.end(MCP_ANSWER);
    });
    return;
  }
  if (req.method === 'POST' && req.url === '/v1/chat/completions') {
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s));
    req.on('end', () => chat(body, res));
    return;
  }
  req.resume(); // drain any request body so the keep-alive connection can be reused
  if (req.method === 'POST' && req.url === '/introspect') {
    const body = JSON.stringify({ active: true, client_id: 'acme', scope: 'orders:read', sub: 'bench-user', exp: Math.floor(Date.now() / 1000) + 7200 });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
    return;
  }
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
// Proxies hold pooled connections open between load runs; don't drop them after the 5 s default.
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});

// run.ts keeps our stdin open; if it dies without killing us (SIGKILL), stdin ends and we go too.
process.stdin.on('end', () => process.exit(0)).resume();

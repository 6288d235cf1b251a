/**
 * What an LLM request body says, for prompt-guard, token budgets and the LLM proxy: which API
 * shape it has, the model, whether it streams, and the texts the model would read, in order.
 * Bodies are untrusted: anything of another shape (a number as content, parts of unknown types,
 * nesting beyond the documented levels) is skipped, never followed.
 *
 * The texts: OpenAI chat `messages[].content` (a string, or parts of type `text`), completions
 * `prompt` (a string or strings), embeddings `input` (a string or strings); Anthropic `system`
 * (a string or text blocks) and `messages[].content` (a string, or blocks of type `text`, and
 * the texts of a `tool_result` block's content, one level down).
 */

type LlmApi = 'openai-chat' | 'openai-completions' | 'openai-embeddings' | 'openai-responses' | 'anthropic-messages';

export interface LlmRequest {
  api: LlmApi | undefined;
  model: string | undefined;
  stream: boolean;
  texts: string[];
}

type Rewrite = (text: string) => string;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Maps the array's items; the same array when none changed. */
function mapItems(items: readonly unknown[], map: (item: unknown) => unknown): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const mapped = map(item);
    if (mapped !== item) (copy ??= items.slice())[i] = mapped;
  }
  return copy ?? (items as unknown[]);
}

/** A string, or strings: `prompt`, `input`. Token arrays (numbers) are left alone. */
function mapStrings(value: unknown, rewrite: Rewrite): unknown {
  if (typeof value === 'string') return rewrite(value);
  if (Array.isArray(value)) return mapItems(value, (item) => (typeof item === 'string' ? rewrite(item) : item));
  return value;
}

/** One part (OpenAI) or block (Anthropic) of a message's content; `nested`: inside a tool_result, where no tool_result is followed. */
function mapPart(part: unknown, rewrite: Rewrite, nested: boolean): unknown {
  if (!isRecord(part)) return part;
  // `text` (chat, Anthropic), `input_text` and `output_text` (the Responses API)
  if ((part.type === 'text' || part.type === 'input_text' || part.type === 'output_text') && typeof part.text === 'string') {
    const text = rewrite(part.text);
    return text === part.text ? part : { ...part, text };
  }
  if (!nested && part.type === 'tool_result' && part.content !== undefined) {
    const content = mapContent(part.content, rewrite, true);
    return content === part.content ? part : { ...part, content };
  }
  return part;
}

/** A message's content: a string, or parts/blocks. */
function mapContent(content: unknown, rewrite: Rewrite, nested = false): unknown {
  if (typeof content === 'string') return rewrite(content);
  if (Array.isArray(content)) return mapItems(content, (part) => mapPart(part, rewrite, nested));
  return content;
}

function mapMessages(messages: readonly unknown[], rewrite: Rewrite): unknown[] {
  return mapItems(messages, (message) => {
    if (!isRecord(message) || message.content === undefined) return message;
    const content = mapContent(message.content, rewrite);
    return content === message.content ? message : { ...message, content };
  });
}

/** Anthropic's tell-tales: a top-level `system`, or content blocks only Anthropic has. */
function looksAnthropic(body: Record<string, unknown>, messages: readonly unknown[]): boolean {
  if (body.system !== undefined || body.anthropic_version !== undefined) return true;
  for (const message of messages) {
    if (!isRecord(message) || !Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (isRecord(part) && (part.type === 'tool_use' || part.type === 'tool_result' || part.type === 'document' || (part.type === 'image' && part.source !== undefined))) return true;
    }
  }
  return false;
}

/**
 * The Responses API's input items: a message (`content` a string or input_text / output_text
 * parts) or a tool's output (`function_call_output`, `custom_tool_call_output`: text the model
 * reads); other items (images, files, reasoning, calls) carry no text to check.
 */
function mapInputItems(items: readonly unknown[], rewrite: Rewrite): unknown[] {
  return mapItems(items, (item) => {
    if (typeof item === 'string') return rewrite(item);
    if (!isRecord(item)) return item;
    if ((item.type === 'function_call_output' || item.type === 'custom_tool_call_output') && typeof item.output === 'string') {
      const output = rewrite(item.output);
      return output === item.output ? item : { ...item, output };
    }
    if (item.content === undefined || (item.type !== undefined && item.type !== 'message')) return item;
    const content = mapContent(item.content, rewrite);
    return content === item.content ? item : { ...item, content };
  });
}

/** Embeddings take a string, strings or token arrays; anything else as `input` (items, `instructions` beside it) is the Responses API's. */
const isEmbeddingsInput = (input: unknown) => typeof input === 'string' || (Array.isArray(input) && input.every((item) => typeof item === 'string' || typeof item === 'number' || Array.isArray(item)));

function apiOf(body: Record<string, unknown>): LlmApi | undefined {
  if (Array.isArray(body.messages)) return looksAnthropic(body, body.messages) ? 'anthropic-messages' : 'openai-chat';
  if (body.prompt !== undefined) return 'openai-completions';
  if (body.instructions !== undefined || (body.input !== undefined && !isEmbeddingsInput(body.input))) return 'openai-responses';
  if (body.input !== undefined) return 'openai-embeddings';
  return undefined;
}

/** The body with every text the model reads passed through `rewrite`, in reading order; the same object (and nested objects) where nothing changed. */
function mapTexts(body: Record<string, unknown>, api: LlmApi, rewrite: Rewrite): Record<string, unknown> {
  const replace = (field: string, value: unknown, next: unknown): Record<string, unknown> => (next === value ? body : { ...body, [field]: next });
  switch (api) {
    case 'openai-chat':
      return replace('messages', body.messages, mapMessages(body.messages as unknown[], rewrite));
    case 'anthropic-messages': {
      const system = body.system === undefined ? undefined : mapContent(body.system, rewrite);
      const withSystem = replace('system', body.system, system);
      const messages = mapMessages(body.messages as unknown[], rewrite);
      return messages === body.messages ? withSystem : { ...withSystem, messages };
    }
    case 'openai-completions':
      return replace('prompt', body.prompt, mapStrings(body.prompt, rewrite));
    case 'openai-embeddings':
      return replace('input', body.input, mapStrings(body.input, rewrite));
    case 'openai-responses': {
      const instructions = typeof body.instructions === 'string' ? rewrite(body.instructions) : body.instructions;
      const withInstructions = replace('instructions', body.instructions, instructions);
      const input = Array.isArray(body.input) ? mapInputItems(body.input, rewrite) : mapStrings(body.input, rewrite);
      return input === body.input ? withInstructions : { ...withInstructions, input };
    }
  }
}

/** A request body as JSON when it came as text or bytes (a JSON body sent as text/plain is still a prompt), else as parsed. */
export function jsonBodyOf(body: unknown): unknown {
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return body;
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The API shape, model, stream flag and texts of a parsed request body.
 * @example
 * llmRequestOf({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] })
 * // { api: 'openai-chat', model: 'gpt-4o', stream: false, texts: ['Hi'] }
 */
export function llmRequestOf(body: unknown): LlmRequest {
  if (!isRecord(body)) return { api: undefined, model: undefined, stream: false, texts: [] };
  const api = apiOf(body);
  const texts: string[] = [];
  if (api !== undefined)
    mapTexts(body, api, (text) => {
      texts.push(text);
      return text;
    });
  return { api, model: typeof body.model === 'string' ? body.model : undefined, stream: body.stream === true, texts };
}

/**
 * The body with the texts llmRequestOf reads replaced by `rewrite`'s answers (the JSON shape
 * otherwise kept); the same body when nothing changed or it is no LLM request.
 * @example
 * rewriteLlmTexts({ messages: [{ role: 'user', content: 'a@b.io' }] }, (t) => t.replace(/\S+@\S+/g, '[email]'))
 * // { messages: [{ role: 'user', content: '[email]' }] }
 */
export function rewriteLlmTexts(body: unknown, rewrite: Rewrite): unknown {
  if (!isRecord(body)) return body;
  const api = apiOf(body);
  return api === undefined ? body : mapTexts(body, api, rewrite);
}

/**
 * What an LLM request body says: its API shape, model, whether it asks for a stream, and its
 * texts (for counting tokens and for guards). Pure: reads a parsed JSON body, never throws.
 * (Written by the llm-proxy helper to the API of ai-design.md, in case the prompt-guard
 * helper's module had not landed; theirs replaces it.)
 */
export interface LlmRequest {
  api: 'openai-chat' | 'openai-completions' | 'openai-embeddings' | 'anthropic-messages' | undefined;
  model: string | undefined;
  stream: boolean;
  texts: string[];
}

/** Text of a message content: a string, or parts/blocks of type text. */
function contentTexts(content: unknown, into: string[]): void {
  if (typeof content === 'string') {
    if (content !== '') into.push(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const part of content) {
    if (part === null || typeof part !== 'object') continue;
    const p = part as { type?: unknown; text?: unknown };
    if (p.type === 'text' && typeof p.text === 'string' && p.text !== '') into.push(p.text);
  }
}

/** Strings of a string or an array of strings (others skipped). */
function strings(value: unknown, into: string[]): void {
  if (typeof value === 'string') {
    if (value !== '') into.push(value);
  } else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string' && item !== '') into.push(item);
}

/**
 * Reads an OpenAI chat (`messages`), completions (`prompt`) or embeddings (`input`) body, or an
 * Anthropic messages body (`system` + `messages`, told apart by its `system` member).
 * @example
 * llmRequestOf({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
 * // { api: 'openai-chat', model: 'gpt-4o', stream: false, texts: ['hi'] }
 */
export function llmRequestOf(body: unknown): LlmRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) return { api: undefined, model: undefined, stream: false, texts: [] };
  const b = body as Record<string, unknown>;
  const model = typeof b.model === 'string' ? b.model : undefined;
  const stream = b.stream === true;
  const texts: string[] = [];
  if (Array.isArray(b.messages)) {
    const anthropic = b.system !== undefined;
    if (anthropic) {
      if (typeof b.system === 'string') strings(b.system, texts);
      else contentTexts(b.system, texts);
    }
    for (const message of b.messages) if (message !== null && typeof message === 'object') contentTexts((message as { content?: unknown }).content, texts);
    return { api: anthropic ? 'anthropic-messages' : 'openai-chat', model, stream, texts };
  }
  if (b.prompt !== undefined) {
    strings(b.prompt, texts);
    return { api: 'openai-completions', model, stream, texts };
  }
  if (b.input !== undefined) {
    strings(b.input, texts);
    return { api: 'openai-embeddings', model, stream, texts };
  }
  return { api: undefined, model, stream, texts };
}

import { Transform, type Readable } from 'node:stream';
import type { ProxyConfig } from '../../../shared/nodes/index.ts';
import { modelMatcher } from '../../../shared/schema/models.ts';
import type { Exchange, LlmUsage } from '../types.ts';
import { llmRequestOf } from './llm-request.ts';
import type { PartnerAccess } from './partner-directory.ts';
import type { TokenCounter } from './token-count.ts';

type LlmConfig = NonNullable<ProxyConfig['llm']>;

/** The longest SSE line kept while it arrives; a longer one is skipped (usage lines are short). */
const MAX_LINE = 64 * 1024;
/** The most characters of answer text kept for estimating its tokens; beyond, they are only counted. */
const MAX_TEXT = 256 * 1024;
/** The largest top-level member of a JSON answer kept to read (`usage`, `choices`, `content`). */
const MAX_MEMBER = 256 * 1024;
/** The longest model name shown in a refusal. */
const MAX_SHOWN_MODEL = 64;

/** Usage as far as an answer said it; each count undefined until read. */
interface SeenUsage {
  input: number | undefined;
  output: number | undefined;
  total: number | undefined;
}

const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined);

/**
 * Reads a `usage` object of either shape into `seen`: OpenAI's prompt_tokens, completion_tokens and
 * total_tokens; Anthropic's input_tokens (plus the cache's creation and read tokens, which are
 * input too) and output_tokens. A later report replaces an earlier one (Anthropic's
 * message_delta carries the final output count).
 */
function readUsage(usage: unknown, seen: SeenUsage): void {
  if (usage === null || typeof usage !== 'object') return;
  const u = usage as Record<string, unknown>;
  const prompt = count(u.prompt_tokens);
  const completion = count(u.completion_tokens);
  const input = count(u.input_tokens);
  const output = count(u.output_tokens);
  if (prompt !== undefined) seen.input = prompt;
  if (input !== undefined) seen.input = input + (count(u.cache_creation_input_tokens) ?? 0) + (count(u.cache_read_input_tokens) ?? 0);
  if (completion !== undefined) seen.output = completion;
  if (output !== undefined) seen.output = output;
  const total = count(u.total_tokens);
  if (total !== undefined) seen.total = total;
}

/** The answer's texts, kept up to MAX_TEXT characters; the rest only counted. */
class AnswerText {
  readonly texts: string[] = [];
  kept = 0;
  dropped = 0;
  add(text: unknown): void {
    if (typeof text !== 'string' || text === '') return;
    if (this.kept + text.length > MAX_TEXT) {
      const room = MAX_TEXT - this.kept;
      if (room > 0) this.texts.push(text.slice(0, room));
      this.kept += Math.max(0, room);
      this.dropped += text.length - Math.max(0, room);
      return;
    }
    this.texts.push(text);
    this.kept += text.length;
  }
}

/** Texts of an answer's `choices` (OpenAI: message.content, text, delta.content) or `content` blocks (Anthropic). */
function addChoiceTexts(choices: unknown, text: AnswerText): void {
  if (!Array.isArray(choices)) return;
  for (const choice of choices) {
    if (choice === null || typeof choice !== 'object') continue;
    const c = choice as { message?: { content?: unknown }; delta?: { content?: unknown }; text?: unknown };
    text.add(c.text);
    text.add(c.message?.content);
    text.add(c.delta?.content);
  }
}
function addContentTexts(content: unknown, text: AnswerText): void {
  if (!Array.isArray(content)) return;
  for (const block of content) if (block !== null && typeof block === 'object') text.add((block as { text?: unknown }).text);
}

/** One event of a streamed answer: usage where it is (OpenAI's last chunk, Anthropic's message_start and message_delta), text deltas. */
function readEvent(event: unknown, seen: SeenUsage, text: AnswerText): void {
  if (event === null || typeof event !== 'object') return;
  const e = event as Record<string, unknown>;
  if (e.usage !== undefined && e.usage !== null) readUsage(e.usage, seen);
  if (e.type === 'message_start') readUsage((e.message as { usage?: unknown } | undefined)?.usage, seen);
  // OpenAI's Responses API: the usage comes with the finished response, text as output_text deltas
  if (e.type === 'response.completed' || e.type === 'response.incomplete') readUsage((e.response as { usage?: unknown } | undefined)?.usage, seen);
  if (e.choices !== undefined) addChoiceTexts(e.choices, text);
  if (e.type === 'content_block_delta') text.add((e.delta as { text?: unknown } | undefined)?.text);
  if (e.type === 'response.output_text.delta') text.add(e.delta);
}

/**
 * Server-sent events read line by line as chunks arrive, never holding more than one line (at
 * most MAX_LINE bytes; a longer one is skipped): each `data:` line's JSON is read for usage and
 * text.
 */
class SseReader {
  #pending: Buffer | undefined;
  #skipping = false;
  readonly seen: SeenUsage;
  readonly text: AnswerText;
  constructor(seen: SeenUsage, text: AnswerText) {
    this.seen = seen;
    this.text = text;
  }

  feed(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (this.#skipping) this.#skipping = false;
      else if (this.#pending !== undefined) {
        const line = Buffer.concat([this.#pending, chunk.subarray(start, nl)]);
        this.#pending = undefined;
        if (line.length <= MAX_LINE) this.#line(line);
      } else this.#line(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start >= chunk.length || this.#skipping) return;
    const rest = chunk.length - start + (this.#pending?.length ?? 0);
    if (rest > MAX_LINE) {
      this.#pending = undefined;
      this.#skipping = true;
    } else this.#pending = this.#pending === undefined ? Buffer.from(chunk.subarray(start)) : Buffer.concat([this.#pending, chunk.subarray(start)]);
  }

  end(): void {
    if (this.#pending !== undefined && !this.#skipping) this.#line(this.#pending);
    this.#pending = undefined;
  }

  #line(line: Buffer): void {
    // `data:` (100 97 116 97 58), then an optional space
    if (line.length < 6 || line[0] !== 100 || line[1] !== 97 || line[2] !== 116 || line[3] !== 97 || line[4] !== 58) return;
    const data = line.toString('utf8', line[5] === 32 ? 6 : 5).trim();
    if (data === '' || data === '[DONE]') return;
    try {
      readEvent(JSON.parse(data), this.seen, this.text);
    } catch {
      // not JSON: nothing to read in it
    }
  }
}

/** Top-level members of a JSON answer that are kept to read. */
const KEPT_MEMBERS = new Set(['usage', 'choices', 'content']);

/**
 * A JSON answer read as it passes, without keeping it: a byte scanner that follows strings and
 * nesting and keeps only the top-level members `usage`, `choices` and `content`, each up to
 * MAX_MEMBER bytes, to parse when the answer is complete.
 */
class JsonMembers {
  #depth = 0;
  #inString = false;
  #escape = false;
  #expectKey = false;
  #inKey = false;
  #key = '';
  #capturing = false;
  #parts: Buffer[] = [];
  #size = 0;
  readonly members = new Map<string, string>();

  feed(chunk: Buffer): void {
    let depth = this.#depth;
    let inString = this.#inString;
    let escape = this.#escape;
    let from = this.#capturing ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escape) escape = false;
        else if (b === 92) escape = true;
        else if (b === 34) {
          inString = false;
          this.#inKey = false;
        } else if (this.#inKey && this.#key.length < 16) this.#key += String.fromCharCode(b);
        continue;
      }
      if (b === 34) {
        inString = true;
        if (depth === 1 && this.#expectKey) {
          this.#inKey = true;
          this.#expectKey = false;
          this.#key = '';
        }
      } else if (b === 123 || b === 91) {
        depth++;
        if (depth === 1) this.#expectKey = b === 123;
      } else if (b === 125 || b === 93) {
        if (depth === 1 && from >= 0) {
          this.#close(chunk, from, i);
          from = -1;
        }
        depth--;
      } else if (depth === 1) {
        if (b === 44) {
          if (from >= 0) {
            this.#close(chunk, from, i);
            from = -1;
          }
          this.#expectKey = true;
        } else if (b === 58 && from < 0 && KEPT_MEMBERS.has(this.#key)) {
          this.#capturing = true;
          this.#parts = [];
          this.#size = 0;
          from = i + 1;
        }
      }
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escape = escape;
    if (from >= 0) this.#keep(chunk.subarray(from));
  }

  #keep(part: Buffer): void {
    if (!this.#capturing) return;
    this.#size += part.length;
    if (this.#size > MAX_MEMBER) {
      this.#capturing = false;
      this.#parts = [];
      return;
    }
    this.#parts.push(Buffer.from(part));
  }

  #close(chunk: Buffer, from: number, to: number): void {
    this.#keep(chunk.subarray(from, to));
    if (this.#capturing) this.members.set(this.#key, Buffer.concat(this.#parts).toString('utf8'));
    this.#capturing = false;
    this.#parts = [];
  }
}

/** Reads usage and text from an answer, whole or chunk by chunk, by its content type. */
export class AnswerUsage {
  readonly seen: SeenUsage = { input: undefined, output: undefined, total: undefined };
  readonly text = new AnswerText();
  #sse: SseReader | undefined;
  #json: JsonMembers | undefined;

  constructor(headers: Record<string, string | string[]>) {
    const type = headers['content-type'];
    const encoding = headers['content-encoding'];
    // a compressed answer is not read (the llm proxy asks for none): its usage is estimated
    if (typeof type !== 'string' || (encoding !== undefined && encoding !== 'identity')) return;
    if (/^text\/event-stream\b/i.test(type)) this.#sse = new SseReader(this.seen, this.text);
    else if (/[/+]json\b/i.test(type)) this.#json = new JsonMembers();
  }

  /** Reads a chunk as it passes (call after it was handed on, so that reading never delays it). */
  feed(chunk: Buffer): void {
    if (this.#sse !== undefined) this.#sse.feed(chunk);
    else this.#json?.feed(chunk);
  }

  /** The answer is complete. */
  end(): void {
    this.#sse?.end();
    const members = this.#json?.members;
    if (members === undefined) return;
    const parsed = (name: string): unknown => {
      const raw = members.get(name);
      if (raw === undefined) return undefined;
      try {
        return JSON.parse(raw);
      } catch {
        return undefined;
      }
    };
    readUsage(parsed('usage'), this.seen);
    addChoiceTexts(parsed('choices'), this.text);
    addContentTexts(parsed('content'), this.text);
  }

  /** A buffered answer a later node reads: its parsed JSON body read at once, else the bytes fed through. */
  readWhole(body: unknown, raw: Buffer): void {
    if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
      const b = body as Record<string, unknown>;
      readUsage(b.usage, this.seen);
      addChoiceTexts(b.choices, this.text);
      addContentTexts(b.content, this.text);
      return;
    }
    this.feed(raw);
    this.end();
  }
}

/** Whether an allow-list (none: any model) lets a request naming `model` (or none) through. */
const permits = (list: ((model: string) => boolean) | undefined, model: string | undefined) => list === undefined || (model !== undefined && list(model));

/** A model name as a refusal shows it: printable, bounded, quoted. */
function shownModel(model: string | undefined): string {
  if (model === undefined) return '(none named)';
  const printable = model.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > MAX_SHOWN_MODEL ? `${printable.slice(0, MAX_SHOWN_MODEL)}…` : printable);
}

/** What one LLM call keeps between its request and its answer. */
export interface LlmCall {
  /** The request's texts, for estimating its tokens when the answer does not say. */
  readonly texts: string[];
  /** Reads the answer once its head is known. */
  answer(headers: Record<string, string | string[]>): AnswerUsage;
  /** Records usage on the exchange: read from the answer, estimated where it said nothing (when the node estimates). */
  finish(exchange: Exchange, usage: AnswerUsage | undefined): Promise<void>;
}

/** The llm option of a proxy node, prepared at publish. */
export interface LlmProxy {
  /**
   * Reads the request body's model and texts, records `llm` on the exchange and checks the model:
   * the port `model_denied` when it is not allowed, else the call's state.
   */
  admit(exchange: Exchange): LlmCall | 'model_denied';
  /** Whether the body goes upstream as the gateway parsed it (an allow-list checked it). */
  readonly rewritesBody: boolean;
}

/**
 * Prepares a proxy node's `llm` option: the allow-list is built once; per request the body
 * (buffered by the gateway: the kind reads it) is read for model, stream flag and texts.
 */
export function prepareLlm(config: LlmConfig, counter: TokenCounter, partners: PartnerAccess | undefined, workflowId: string): LlmProxy {
  const allowed = config.models === undefined ? undefined : modelMatcher(config.models);
  const estimate = config.estimate;
  const api = config.api;

  /** The product a partner calls this workflow under: its limit's, else the workflow's products. */
  function productOf(partner: string | undefined): string {
    const directory = partners?.current;
    if (directory === undefined) return 'none';
    const limit = partner === undefined ? undefined : directory.partners.get(partner)?.limits.get(workflowId);
    return limit?.product ?? directory.guarded.get(workflowId) ?? 'none';
  }

  async function tokens(texts: readonly string[], dropped: number): Promise<number> {
    if (texts.length === 0 && dropped === 0) return 0;
    const counted = texts.length === 0 ? 0 : (await counter.count(texts)).tokens;
    return counted + Math.ceil(dropped / 4);
  }

  return {
    rewritesBody: allowed !== undefined,
    admit(exchange) {
      const body = exchange.request.body;
      const read = llmRequestOf(body);
      const model = read.model;
      // A body the gateway could not read as an LLM request still goes through the allow-list:
      // only requests without a body (GET /v1/models) pass it.
      const hasBody = body !== undefined && body !== '' && !(Buffer.isBuffer(body) && body.length === 0);
      const before = exchange.llm;
      const notACall = read.api === undefined && model === undefined;
      exchange.llm = { api, model, stream: read.stream, usage: before?.usage, product: productOf(exchange.partner) };
      // the node's allow-list, then the one of the partner's plan (or override) for this workflow's product
      const planned = exchange.partner === undefined ? undefined : partners?.current.partners.get(exchange.partner)?.limits.get(workflowId)?.allowsModel;
      if (hasBody && !(permits(allowed, model) && permits(planned, model))) {
        exchange.problemParams = { ...exchange.problemParams, model: shownModel(model) };
        return 'model_denied';
      }
      exchange.llm.called = true;
      return {
        texts: read.texts,
        answer: (headers) => new AnswerUsage(headers),
        async finish(exchange, usage) {
          const llm = exchange.llm;
          if (llm === undefined) return;
          usage?.end();
          const seen = usage?.seen ?? { input: undefined, output: undefined, total: undefined };
          // embeddings say prompt and total tokens only: the rest of the total is the output (none)
          if (seen.output === undefined && seen.input !== undefined && seen.total !== undefined) seen.output = Math.max(0, seen.total - seen.input);
          // not an LLM call (no body: the model list, say) and nothing said: no usage to record
          if (notACall && seen.input === undefined && seen.output === undefined) return;
          if (seen.input !== undefined && seen.output !== undefined) {
            llm.usage = { input: seen.input, output: seen.output, total: seen.total ?? seen.input + seen.output, estimated: false };
            return;
          }
          if (!estimate) {
            // what the upstream said, nothing counted
            if (seen.input !== undefined || seen.output !== undefined) llm.usage = { input: seen.input ?? 0, output: seen.output ?? 0, total: seen.total ?? (seen.input ?? 0) + (seen.output ?? 0), estimated: false };
            return;
          }
          const earlier = llm.usage?.estimated ? llm.usage.input : undefined;
          const text = usage?.text;
          const [input, output] = await Promise.all([
            seen.input ?? earlier ?? tokens(read.texts, 0),
            seen.output ?? (text === undefined ? 0 : tokens(text.texts, text.dropped)),
          ]);
          const result: LlmUsage = { input, output, total: input + output, estimated: true };
          llm.usage = result;
        },
      };
    },
  };
}

/**
 * An answer handed on as a stream (previews and tests, which cannot be answered directly), read
 * for usage as it passes; the usage is recorded when it ends.
 */
export function watchStream(exchange: Exchange, body: Readable, call: LlmCall, headers: Record<string, string | string[]>): Readable {
  const usage = call.answer(headers);
  let finishing: Promise<void> | undefined;
  // once: at the answer's end, or when it is cut short (what it said so far is recorded)
  const finish = () => (finishing ??= call.finish(exchange, usage).catch(() => undefined));
  const watched = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, chunk);
      usage.feed(chunk);
    },
    flush(done) {
      void finish().then(() => done());
    },
  });
  if (exchange.llm !== undefined) exchange.llm.settled = new Promise((resolve) => watched.once('close', () => void finish().then(resolve)));
  body.on('error', (error) => watched.destroy(error));
  return body.pipe(watched);
}

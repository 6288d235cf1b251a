/**
 * Prompt token estimates (o200k_base), for prompt-guard, token budgets and the LLM proxy. The
 * tokenizer never runs on the gateway's thread: building its encoder takes ~0.4 s of CPU and a
 * long text costs tens of milliseconds, so it runs in the expression worker pool (a token task,
 * see token-encoder.ts). What the pool cannot answer in time is estimated as ceil(chars / 4):
 * no pool, a full queue, a closed pool, a deadline passed, a worker that failed.
 */
import type { Exchange, PrepareContext } from '../types.ts';
import { createExpressionPool, type ExpressionPool } from './expression-pool.ts';
import type { LlmRequest } from './llm-request.ts';

export interface TokenCounter {
  count(texts: readonly string[]): Promise<{ tokens: number; estimated: true }>;
}

/** Characters handed to the tokenizer per count; the rest is estimated at 4 characters a token. */
export const MAX_TOKENIZED_CHARS = 256 * 1024;
/** A count on a worker whose encoder is built; 256 Ki characters of hostile text took ~0.3 s. */
const DEADLINE_MS = 2_000;
/** A worker's first count builds its encoder. */
const COLD_DEADLINE_MS = 15_000;
/** Past this the worker's CPU priority is lowered (see expression-pool.ts). */
const DEMOTE_MS = 500;
/** Longest a caller waits for a count, queue included; past it, the estimate (the count goes on, and the encoder gets built). */
const WAIT_MS = 3_000;

/** The estimate when the tokenizer does not answer: a token per 4 characters, rounded up. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/**
 * A token counter over this pool (undefined: estimates only).
 * @example
 * await tokenCounter(pool).count(['You are terse.', 'Hello!']) // { tokens: 6, estimated: true }
 */
export function tokenCounter(pool: ExpressionPool | undefined): TokenCounter {
  return {
    async count(texts) {
      let chars = 0;
      for (const text of texts) chars += text.length;
      if (chars === 0) return { tokens: 0, estimated: true };
      if (pool === undefined) return { tokens: estimateTokens(chars), estimated: true };
      // the first MAX_TOKENIZED_CHARS characters are counted, the rest estimated
      const counted: string[] = [];
      let room = MAX_TOKENIZED_CHARS;
      for (const text of texts) {
        if (room === 0) break;
        const part = text.length <= room ? text : text.slice(0, room);
        counted.push(part);
        room -= part.length;
      }
      const rest = chars - (MAX_TOKENIZED_CHARS - room);
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, WAIT_MS, undefined);
      });
      try {
        const tokens = await Promise.race([pool.countTokens(counted, { deadlineMs: DEADLINE_MS, coldDeadlineMs: COLD_DEADLINE_MS, demoteMs: DEMOTE_MS }), waited]);
        return { tokens: tokens === undefined ? estimateTokens(chars) : tokens + estimateTokens(rest), estimated: true };
      } catch {
        return { tokens: estimateTokens(chars), estimated: true };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The worker pool a node counts tokens (and checks prompts) in: the gateway's expression pool, or
 * where there is none (previews and tests without one) a one-thread pool of this process, shared by
 * every node and started on first use.
 */
export function workersOf(context: Pick<PrepareContext, 'workers' | 'shared'>): ExpressionPool {
  return context.workers ?? context.shared.get('llm:token-workers', () => createExpressionPool({ threads: 1, queue: 64 }));
}

/**
 * Keeps a prompt's estimated tokens on the exchange, as `llm.usage.input` (for expressions, token
 * budgets and the llm proxy, which keeps it rather than count again).
 */
export function keepPromptEstimate(exchange: Exchange, prompt: LlmRequest, tokens: number): void {
  const usage = { input: tokens, output: 0, total: tokens, estimated: true };
  if (exchange.llm === undefined) exchange.llm = { api: prompt.api === 'anthropic-messages' ? 'anthropic' : 'openai', model: prompt.model, stream: prompt.stream, usage, product: 'none' };
  else exchange.llm.usage = usage;
}

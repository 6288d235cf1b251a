import type { PromptGuardConfig } from '../../shared/nodes/index.ts';
import { tooDeep } from '../../shared/schema/limits.ts';
import { PrepareError } from './prepare-error.ts';
import { SluiceError } from './support/errors.ts';
import { regexProblem } from './support/linear-regex.ts';
import { jsonBodyOf, llmRequestOf, rewriteLlmTexts } from './support/llm-request.ts';
import { DETECTORS, type ScanResult, type ScanSpec } from './support/prompt-scan.ts';
import { keepPromptEstimate, tokenCounter, workersOf } from './support/token-count.ts';
import type { Exchange, Runtime } from './types.ts';

/** A prompt's checks end here in their worker; past it the prompt is refused (it could not be checked). */
const SCAN_DEADLINE_MS = 3_000;
/** Past this the checking worker's CPU priority is lowered (expression-pool.ts). */
const SCAN_DEMOTE_MS = 500;

/**
 * The deepest a checked body may nest: the guard sends on the JSON it checked, written out again,
 * and JSON.stringify overflows the stack a few thousand levels down (no LLM request nests past a
 * few dozen, tool schemas included).
 */
const MAX_BODY_DEPTH = 256;

/** Keys of compiled checks in the workers: one per prepared node. */
let nextKey = 1;

function blocked(exchange: Exchange, rule: string): string {
  exchange.problemParams = { ...exchange.problemParams, rule };
  return 'blocked';
}

/**
 * Checks an LLM request's texts (llm-request.ts): deny and allow patterns and PII detectors in an
 * expression worker (prompt-scan.ts), the token maximum by the token counter, both off the
 * gateway's thread. A refusal names the rule (`pattern 2`, `detector card`, `max input tokens
 * 4000`), never the text. Redaction rewrites the body's texts; the body sent on is always the
 * JSON that was checked, written out again, so that an upstream cannot read other texts from the
 * bytes (a repeated member) than the guard did.
 */
export const promptGuard: Runtime<PromptGuardConfig> = (config, context) => {
  // the config's schema refused what is no regular expression; RE2 takes a pattern or not whatever its flags
  for (const field of ['deny', 'allow'] as const) {
    config[field].forEach((source, i) => {
      const problem = regexProblem(new RegExp(source));
      if (problem !== undefined) throw new PrepareError(`config.${field}.${i}`, problem);
    });
  }
  const workers = workersOf(context);
  const spec: ScanSpec = {
    // Stryker disable next-line UpdateOperator: equivalent: counting down gives each prepared node its own key too
    key: nextKey++,
    deny: config.deny,
    allow: config.allow,
    ignoreCase: config.ignoreCase,
    detectors: DETECTORS.flatMap((name) => {
      const action = config.detectors[name];
      return action === 'off' ? [] : [[name, action] as const];
    }),
  };
  // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent: a scan with nothing to check blocks and redacts nothing; this spares the worker round trip
  const scans = spec.deny.length + spec.allow.length + spec.detectors.length > 0;
  const maxTokens = config.maxInputTokens;
  // Stryker disable next-line ConditionalExpression: equivalent: tokens counted without a maximum refuse nothing (the estimate kept is what a later budget would count)
  const counter = maxTokens === undefined ? undefined : tokenCounter(workers);
  workers.warm();

  /** The checks' result; a full queue is the gateway's overload (503), a check past its deadline or a failed worker refuses the prompt. */
  async function scan(exchange: Exchange, texts: readonly string[]): Promise<ScanResult> {
    try {
      // a client that leaves while its checks wait for a worker takes them out of the queue
      const gone = new AbortController();
      exchange.onClientGone(gone);
      return await workers.scanPrompt(spec, texts, { deadlineMs: SCAN_DEADLINE_MS, demoteMs: SCAN_DEMOTE_MS, signal: gone.signal });
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      if (code === 'busy' || code === 'closed') {
        (exchange.answerHeaders ??= {})['retry-after'] = '1';
        throw new SluiceError('expressions_busy', 'every expression worker is busy and the queue is full', { cause });
      }
      return { blocked: code === 'D1012' ? 'inspection time limit' : 'inspection failed', redacted: undefined };
    }
  }

  return {
    run: async function promptGuard(exchange) {
      const body = jsonBodyOf(exchange.request.body);
      const prompt = llmRequestOf(body);
      if (prompt.api === undefined) return config.nonLlm === 'pass' ? 'ok' : blocked(exchange, 'not an LLM request');
      if (tooDeep(body, MAX_BODY_DEPTH) !== undefined) return blocked(exchange, `nesting over ${MAX_BODY_DEPTH} levels`);
      const [checked, counted] = await Promise.all([scans ? scan(exchange, prompt.texts) : undefined, counter?.count(prompt.texts)]);
      if (checked?.blocked !== undefined) return blocked(exchange, checked.blocked);
      if (counted !== undefined) {
        keepPromptEstimate(exchange, prompt, counted.tokens);
        if (counted.tokens > maxTokens!) return blocked(exchange, `max input tokens ${maxTokens}`);
      }
      const redacted = checked?.redacted;
      let next = 0;
      const sent = redacted === undefined ? body : rewriteLlmTexts(body, (text) => redacted[next++] ?? text);
      // a new object even when nothing changed: the proxy then writes out the JSON checked here, not the bytes received
      exchange.request.body = sent === body ? { ...(body as Record<string, unknown>) } : sent;
      return 'ok';
    },
  };
};

import type { Dispatcher, Pool } from 'undici';
import type { ProxyConfig } from '../../../shared/nodes/index.ts';
import { durationMs } from '../../../shared/schema/index.ts';
import type { Exchange, PreparedNode } from '../types.ts';
import { failWith } from './errors.ts';
import { answerHeaders } from './upstream-headers.ts';
import { CallCancellation, failedCall, onDeadline, UpstreamCall } from './upstream-call.ts';
import { watchStream, type AnswerUsage, type LlmCall, type LlmProxy } from './upstream-llm.ts';
import { Breaker, pickTarget, RetryBudget, shownState, type UpstreamsState } from './upstream-targets.ts';

/** One target, prepared at publish: its URL (egress-checked), pool and base path. */
export interface PreparedTarget {
  url: URL;
  weight: number;
  pool: Pool;
  basePath: string;
}

/** What the proxy runtime shares with its resilient path. */
export interface ProxyParts {
  timeoutMs: number;
  bufferResponse: boolean;
  maxBuffered: number;
  requestPath(exchange: Exchange): string;
  requestBody(exchange: Exchange): { body: Buffer | string | undefined; stream: Exchange['incoming'] };
  readableBody(raw: Buffer, type: string | string[] | undefined): unknown;
  /** The upstream request's headers (the same for every target: undici sends each one's Host). */
  upstreamHeaders(exchange: Exchange, body: Buffer | string | undefined): Record<string, string | string[]>;
  /** The llm option, when the node has one. */
  llm: LlmProxy | undefined;
}

/** Methods retried without `retryUnsafe`: RFC 9110's idempotent methods (TRACE aside). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const DEFAULT_RETRY_ON = [502, 503, 504];
const DEFAULT_BREAKER = { failures: 5, cooldown: '30s' } as const;

/**
 * How one attempt ended: its port; what it tells the target's breaker (`none` when the client went
 * away first); whether it may be retried (`dropped`: a retryOn status was dropped, its retry
 * already taken from the budget).
 */
interface Attempt {
  port: string;
  verdict: 'success' | 'failure' | 'none';
  retry: 'no' | 'may' | 'dropped';
  /** What an llm call read of the answer (recorded once no further attempt is made). */
  usage?: AnswerUsage | undefined;
}
const verdictOf = (failed: boolean): Attempt['verdict'] => (failed ? 'failure' : 'success');

/**
 * The proxy with several targets, retries, a breaker per target and optional health checks.
 * Each request picks a target (by weight or sticky key) among those whose breaker admits it;
 * a connect error, a timeout or a retryOn status counts as the target's failure and is retried
 * on another target while retries and the node's budget last, for idempotent methods (or
 * `retryUnsafe`) with a body that was read or is empty. With every breaker open it exits by `open`.
 */
export function resilientProxy(config: ProxyConfig, prepared: PreparedTarget[], parts: ProxyParts): PreparedNode {
  const breakerConfig = { ...DEFAULT_BREAKER, ...config.breaker };
  const breakerOptions = { failures: breakerConfig.failures, cooldownMs: durationMs(breakerConfig.cooldown), failureRatio: config.breaker?.failureRatio };
  const targets = prepared.map((t, seed) => ({ ...t, seed, breaker: new Breaker(breakerOptions), healthy: null as boolean | null, label: t.url.origin + t.basePath }));
  const retries = config.retries ?? 0;
  const retryUnsafe = config.retryUnsafe === true;
  const retryOn = new Set(config.retryOn ?? DEFAULT_RETRY_ON);
  const budget = new RetryBudget();
  const { timeoutMs, bufferResponse, maxBuffered } = parts;
  const checks = config.healthCheck === undefined ? undefined : startHealthChecks(targets, config.healthCheck.path, durationMs(config.healthCheck.interval), timeoutMs);

  /** One call to a target: its port, and whether it failed (for the breaker) and may be retried. */
  async function attempt(exchange: Exchange, target: (typeof targets)[number], options: Dispatcher.DispatchOptions, started: number, mayRetry: boolean, llmCall: LlmCall | undefined): Promise<Attempt> {
    const retryStatus = mayRetry ? (status: number) => retryOn.has(status) && budget.tryRetry(Date.now()) : undefined;
    if (!bufferResponse && !exchange.canHijack) {
      // an answer handed on as a stream, for an exchange that cannot write to a client (previews, tests)
      const call = new CallCancellation();
      exchange.onClientGone(call);
      const deadline = setTimeout(onDeadline, timeoutMs, call);
      try {
        const response = await target.pool.request({ ...options, signal: call as unknown as AbortSignal });
        if (retryStatus?.(response.statusCode)) {
          response.body.destroy();
          return { port: 'ok', verdict: 'failure', retry: 'dropped' };
        }
        exchange.upstreamStatus = response.statusCode;
        const headers = answerHeaders(response.headers);
        exchange.response = { status: response.statusCode, headers, stream: llmCall === undefined ? response.body : watchStream(exchange, response.body, llmCall, headers) };
        return { port: 'ok', verdict: verdictOf(retryOn.has(response.statusCode)), retry: 'no' };
      } catch (error) {
        const failed = !call.aborted || call.timedOut; // a client that went away is no fault of the target
        return { port: failedCall(exchange, call, error), verdict: failed ? 'failure' : 'none', retry: failed ? 'may' : 'no' };
      } finally {
        exchange.upstreamMs = performance.now() - started;
        clearTimeout(deadline);
      }
    }
    const call = new UpstreamCall(exchange, !bufferResponse, maxBuffered, started, timeoutMs, retryStatus);
    if (llmCall !== undefined && !bufferResponse) call.watch = llmCall.answer;
    exchange.onClientGone(call);
    try {
      try {
        target.pool.dispatch(options, call);
      } catch (error) {
        call.onError(error as Error); // refused before it started (an invalid header, a closed pool)
      }
      const end = await call.done;
      if (end === 'retry') return { port: 'ok', verdict: 'failure', retry: 'dropped' };
      if (end === 'too_large') return { port: failWith(exchange, 'the upstream answer is too large to transform'), verdict: 'success', retry: 'no' };
    } catch (error) {
      const failed = !call.aborted || call.timedOut; // a client that went away is no fault of the target
      // once the answer's head went to the client, the call cannot be made again
      return { port: failedCall(exchange, call, error), verdict: failed ? 'failure' : 'none', retry: failed && !call.committed ? 'may' : 'no', usage: call.watcher };
    }
    let usage = call.watcher;
    if (bufferResponse) {
      const answer = parts.readableBody(call.body!, call.headers['content-type']);
      exchange.response = { status: call.status, headers: call.headers, body: answer };
      if (llmCall !== undefined) {
        usage = llmCall.answer(call.headers);
        usage.readWhole(answer, call.body!);
      }
    }
    return { port: 'ok', verdict: verdictOf(retryOn.has(call.status)), retry: 'no', usage };
  }

  /** The seconds until the first open breaker lets a probe through, for Retry-After. */
  function retryAfter(now: number): string {
    let soonest = Infinity;
    for (const t of targets) soonest = Math.min(soonest, t.breaker.openUntil - now);
    return String(Math.max(1, Math.ceil(soonest / 1000)));
  }

  /** Calls targets until one answers, or retries and budget run out: the last attempt. */
  async function attempts(exchange: Exchange, llmCall: LlmCall | undefined): Promise<Pick<Attempt, 'port' | 'usage'>> {
    const now = Date.now();
    budget.request(now);
    const { body, stream } = parts.requestBody(exchange);
    const path = parts.requestPath(exchange);
    const retryable = retries > 0 && stream === undefined && (retryUnsafe || IDEMPOTENT.has(exchange.request.method));
    const key = config.sticky === 'partner' ? exchange.partner : config.sticky === 'subject' ? exchange.subject : undefined;
    const started = performance.now();
    let tried = 0;
    for (let n = 0; ; n++) {
      const at = Date.now();
      const index = pickTarget(targets, at, tried, key);
      if (index < 0) {
        // every breaker is open (a retry may find them so too): no call is made
        const seconds = retryAfter(at);
        (exchange.answerHeaders ??= {})['retry-after'] = seconds;
        exchange.problemParams = { ...exchange.problemParams, retryAfter: seconds };
        return { port: 'open' };
      }
      const target = targets[index]!;
      target.breaker.take(at);
      tried |= 1 << index;
      const headers = parts.upstreamHeaders(exchange, body);
      const options: Dispatcher.DispatchOptions = { path: target.basePath + path, method: exchange.request.method as Dispatcher.HttpMethod, headers, body: body ?? stream ?? null, headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
      const mayRetry = retryable && n < retries;
      const result = await attempt(exchange, target, options, started, mayRetry, llmCall);
      if (result.verdict === 'failure') target.breaker.failure(Date.now());
      else if (result.verdict === 'success') target.breaker.success(Date.now());
      else target.breaker.release();
      // a dropped retryOn status took its retry from the budget already; a failed call takes one now
      if (result.retry === 'dropped') continue;
      if (result.retry === 'no' || !mayRetry || !budget.tryRetry(Date.now())) return result;
    }
  }

  return {
    run: async function resilientProxy(exchange) {
      let llmCall: LlmCall | undefined;
      if (parts.llm !== undefined) {
        const admitted = parts.llm.admit(exchange);
        if (admitted === 'model_denied') return admitted;
        llmCall = admitted;
      }
      const last = await attempts(exchange, llmCall);
      // an answer handed on as a stream records its usage when it ends (watchStream)
      if (llmCall !== undefined && exchange.response?.stream === undefined) await llmCall.finish(exchange, last.usage);
      return last.port;
    },
    upstreams(): UpstreamsState {
      const now = Date.now();
      return {
        targets: targets.map((t) => {
          const state = shownState(t.breaker, now);
          return {
            target: t.label,
            weight: t.weight,
            state,
            ejectedUntil: state === 'open' ? new Date(t.breaker.openUntil).toISOString() : null,
            consecutiveFailures: t.breaker.consecutive,
            failures: t.breaker.failuresTotal,
            lastFailureAt: t.breaker.lastFailureAt === 0 ? null : new Date(t.breaker.lastFailureAt).toISOString(),
            healthy: t.healthy,
          };
        }),
        retries: budget.retriesTotal,
        retriesRefused: budget.refusedTotal,
      };
    },
    close() {
      checks?.close();
    },
  };
}

/**
 * Active health checks: every `intervalMs`, GET `path` on each target through its pool (so
 * through the egress policy's connector). A 2xx or 3xx answer readmits a target whose breaker is
 * open; anything else (or no answer within the timeout) ejects it for a cool-down.
 */
function startHealthChecks(targets: Array<{ pool: Pool; basePath: string; url: URL; breaker: Breaker; healthy: boolean | null }>, path: string, intervalMs: number, timeoutMs: number): { close(): void } {
  const inFlight = new Set<CallCancellation>();
  const checkMs = Math.min(timeoutMs, intervalMs);
  async function check(target: (typeof targets)[number]): Promise<void> {
    const call = new CallCancellation();
    inFlight.add(call);
    const deadline = setTimeout(onDeadline, checkMs, call);
    let healthy = false;
    try {
      const response = await target.pool.request({ method: 'GET', path: target.basePath + path, headers: { host: target.url.host, 'user-agent': 'sluice-health-check' }, signal: call as unknown as AbortSignal, headersTimeout: checkMs, bodyTimeout: checkMs });
      await response.body.dump();
      healthy = response.statusCode >= 200 && response.statusCode < 400;
    } catch {
      healthy = false;
    } finally {
      clearTimeout(deadline);
      inFlight.delete(call);
    }
    if (call.aborted && !call.timedOut) return; // closed meanwhile
    target.healthy = healthy;
    if (healthy) {
      if (target.breaker.state !== 'closed') target.breaker.success();
    } else target.breaker.trip(Date.now());
  }
  const timer = setInterval(() => {
    for (const target of targets) void check(target);
  }, intervalMs);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      for (const call of inFlight) call.abort();
    },
  };
}

/**
 * The resilient proxy's bookkeeping: a circuit breaker per target (which is also its passive
 * health: an open breaker ejects the target until its cool-down ends), the choice of a target by
 * weight or by a sticky key, and a retry budget per node. Plain state machines on numbers: no
 * timers and no allocation per request; time comes in as `now` (milliseconds).
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failures: number;
  /** How long an open breaker keeps its target out. */
  cooldownMs: number;
  /** Also open when this share of the calls over the last 10 s failed (with at least RATIO_MIN_CALLS calls). */
  failureRatio?: number | undefined;
}

/** The failure ratio is judged over this window, once it holds this many calls. */
const RATIO_WINDOW_MS = 10_000;
const RATIO_MIN_CALLS = 10;

/**
 * One target's breaker: closed until `failures` failures in a row, then open (the target is
 * ejected) for `cooldownMs`; then half-open: one request probes it, its success closes the
 * breaker, its failure opens it again for another cool-down.
 */
export class Breaker {
  state: BreakerState = 'closed';
  /** Failures in a row (reset by a success). */
  consecutive = 0;
  /** When an open breaker lets a probe through (ms). */
  openUntil = 0;
  /** A half-open breaker's probe is under way. */
  probing = false;
  /** Failures and successes since the node was prepared, and when the last failure was. */
  failuresTotal = 0;
  lastFailureAt = 0;
  readonly #options: BreakerOptions;
  /** Calls (a) and failures (b) over the window, with a failure ratio only. */
  readonly #window: WindowCounts | undefined;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#window = options.failureRatio === undefined ? undefined : new WindowCounts(RATIO_WINDOW_MS, 10);
  }

  /** Whether a request may go to this target now; a half-open breaker admits one probe at a time. */
  available(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') return now >= this.openUntil && !this.probing;
    return !this.probing;
  }

  /** A request goes to this target: past the cool-down, it is the half-open probe. */
  take(now: number): void {
    if (this.state === 'open' && now >= this.openUntil) this.state = 'half-open';
    if (this.state === 'half-open') this.probing = true;
  }

  /** A call succeeded (`now` given: it counts toward the failure ratio), or a health check passed. */
  success(now?: number): void {
    if (now !== undefined) this.#window?.add(now, 1, 0);
    this.state = 'closed';
    this.consecutive = 0;
    this.probing = false;
  }

  failure(now: number): void {
    this.consecutive += 1;
    this.failuresTotal += 1;
    this.lastFailureAt = now;
    if (this.state === 'half-open' || this.consecutive >= this.#options.failures) return this.trip(now);
    if (this.#window === undefined) return;
    this.#window.add(now, 1, 1);
    const [calls, failures] = this.#window.sums(now);
    if (calls >= RATIO_MIN_CALLS && failures >= this.#options.failureRatio! * calls) this.trip(now);
  }

  /** Opens the breaker for a cool-down from now (a failed probe, too many failures, a failed health check). */
  trip(now: number): void {
    this.#window?.clear(); // a readmitted target starts with a clean record
    this.state = 'open';
    this.openUntil = now + this.#options.cooldownMs;
    this.probing = false;
  }

  /** A call that was cancelled before it told anything (the client went away): a probe may be tried again. */
  release(): void {
    this.probing = false;
  }
}

/** FNV-1a over a string, then a round of mixing with the target's seed: uniform enough for rendezvous hashing. */
function hash(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One target as the chooser sees it. */
export interface Weighted {
  weight: number;
  breaker: Breaker;
  /** A seed of its own for sticky hashing (its index). */
  seed: number;
}

/**
 * Picks a target among those whose breaker admits a request, skipping `tried` (a bit set of
 * indexes) when another is available. With a sticky key, weighted rendezvous hashing: the same
 * key picks the same target while it stays healthy, and when it is ejected only its keys move.
 * Returns -1 when none is available.
 */
export function pickTarget(targets: readonly Weighted[], now: number, tried: number, key: string | undefined, random: () => number = Math.random): number {
  let total = 0;
  let untried = 0;
  for (let i = 0; i < targets.length; i++) {
    if (!targets[i]!.breaker.available(now)) continue;
    total += targets[i]!.weight;
    if ((tried & (1 << i)) === 0) untried += targets[i]!.weight;
  }
  if (total === 0) return -1;
  const skip = untried > 0 ? tried : 0;
  if (key !== undefined) {
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      if ((skip & (1 << i)) !== 0 || !target.breaker.available(now)) continue;
      // -weight / ln(u), u in (0, 1): the highest score wins, in proportion to the weights
      const score = -target.weight / Math.log((hash(key, target.seed) + 1) / 4294967297);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }
  let point = random() * (untried > 0 ? untried : total);
  let last = -1;
  for (let i = 0; i < targets.length; i++) {
    if ((skip & (1 << i)) !== 0 || !targets[i]!.breaker.available(now)) continue;
    last = i;
    point -= targets[i]!.weight;
    if (point < 0) return i;
  }
  return last;
}

/**
 * Two counts over a sliding window of slots (requests and retries, calls and failures): adding
 * moves the window to `now`, clearing the slots it left behind.
 */
class WindowCounts {
  readonly #a: Float64Array;
  readonly #b: Float64Array;
  readonly #slotMs: number;
  #slot = 0;
  #slotStart = 0;

  constructor(windowMs: number, slots: number) {
    this.#a = new Float64Array(slots);
    this.#b = new Float64Array(slots);
    this.#slotMs = windowMs / slots;
  }

  #advance(now: number): void {
    const slots = this.#a.length;
    let passed = Math.floor((now - this.#slotStart) / this.#slotMs);
    if (passed <= 0) return;
    this.#slotStart += passed * this.#slotMs;
    if (passed > slots) passed = slots;
    for (let i = 0; i < passed; i++) {
      this.#slot = (this.#slot + 1) % slots;
      this.#a[this.#slot] = 0;
      this.#b[this.#slot] = 0;
    }
  }

  add(now: number, a: number, b: number): void {
    this.#advance(now);
    this.#a[this.#slot]! += a;
    this.#b[this.#slot]! += b;
  }

  /** The two sums over the window as of `now`. */
  sums(now: number): [number, number] {
    this.#advance(now);
    let a = 0;
    let b = 0;
    for (let i = 0; i < this.#a.length; i++) {
      a += this.#a[i]!;
      b += this.#b[i]!;
    }
    return [a, b];
  }

  clear(): void {
    this.#a.fill(0);
    this.#b.fill(0);
  }
}

/** The retry budget's numbers: retries may be `ratio` of the requests over the window, plus `minimum`. */
const RETRY_BUDGET = { ratio: 0.2, minimum: 3, windowMs: 10_000, slots: 10 } as const;

/**
 * A node's retry budget over a sliding window: a retry is allowed while the retries in the window
 * stay under `ratio` x the requests in it plus `minimum`. So a failing upstream gets at most
 * (1 + ratio) x the client requests plus a few, never a multiple of them (a retry storm).
 */
export class RetryBudget {
  /** Requests (a) and retries (b). */
  readonly #window: WindowCounts;
  /** Retries made since the node was prepared (the metric), and those the budget refused. */
  retriesTotal = 0;
  refusedTotal = 0;
  readonly #ratio: number;
  readonly #minimum: number;

  constructor(options: { ratio: number; minimum: number; windowMs: number; slots: number } = RETRY_BUDGET) {
    this.#window = new WindowCounts(options.windowMs, options.slots);
    this.#ratio = options.ratio;
    this.#minimum = options.minimum;
  }

  /** A client request reached the node. */
  request(now: number): void {
    this.#window.add(now, 1, 0);
  }

  /** Takes a retry from the budget; false when the budget is spent. */
  tryRetry(now: number): boolean {
    const [requests, retries] = this.#window.sums(now);
    if (retries + 1 > this.#ratio * requests + this.#minimum) {
      this.refusedTotal += 1;
      return false;
    }
    this.#window.add(now, 0, 1);
    this.retriesTotal += 1;
    return true;
  }
}

/** One target's state as GET /admin/api/status and the metrics show it. */
interface TargetState {
  /** The target's origin and base path (never a resolved ${NAME}'s credentials: the URL has none). */
  target: string;
  weight: number;
  state: BreakerState;
  /** When an open breaker readmits a probe (ISO time); null unless open. */
  ejectedUntil: string | null;
  /** Failures in a row now, and since the node was prepared. */
  consecutiveFailures: number;
  failures: number;
  lastFailureAt: string | null;
  /** The last active health check: true, false, or null without checks (or before the first). */
  healthy: boolean | null;
}

/** A proxy node's upstreams as its PreparedNode reports them. */
export interface UpstreamsState {
  targets: TargetState[];
  retries: number;
  retriesRefused: number;
}

/** The breaker state as a gauge value: 0 closed, 1 half-open, 2 open. */
export const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** The state of an open breaker whose cool-down has passed, as a reader sees it: half-open (the next request probes it). */
export function shownState(breaker: Breaker, now: number): BreakerState {
  return breaker.state === 'open' && now >= breaker.openUntil ? 'half-open' : breaker.state;
}

import { OUTCOMES } from './outcome.ts';

/** Width of one slot of the windowed counts. */
export const SLOT_MS = 10_000;
/** Slots kept: the longest stats window is one hour. */
const SLOTS = 360;
export const MAX_WINDOW_MS = SLOT_MS * SLOTS;

interface Slot {
  /** The slot's number (time / SLOT_MS); a slot with another number is stale. */
  at: number;
  /** Outcome counts by partner label. */
  byPartner: Map<string, Float64Array>;
}

/**
 * Outcome and partner counts of recent time windows (10 s slots over the last hour). A slot is
 * made when a request first lands in it: an idle workflow holds none (a thousand loaded
 * workflows would otherwise hold 360 maps each).
 */
export class WindowedCounts {
  /** Made at the first request: an idle workflow holds no slot table (10,000 loaded workflows would hold 3.6 million slots). */
  #slots: Array<Slot | undefined> | undefined;

  add(now: number, partner: string, outcome: number): void {
    const at = Math.floor(now / SLOT_MS);
    const slots = (this.#slots ??= Array.from<Slot | undefined>({ length: SLOTS }));
    let slot = slots[at % SLOTS];
    if (slot === undefined) {
      slot = { at, byPartner: new Map() };
      slots[at % SLOTS] = slot;
    } else if (slot.at !== at) {
      slot.at = at;
      slot.byPartner.clear();
    }
    let counts = slot.byPartner.get(partner);
    if (counts === undefined) {
      counts = new Float64Array(OUTCOMES.length);
      slot.byPartner.set(partner, counts);
    }
    counts[outcome]!++;
  }

  /** Outcome counts by partner label over the last `windowMs` (whole slots). */
  sum(now: number, windowMs: number): Map<string, Float64Array> {
    const last = Math.floor(now / SLOT_MS);
    const first = last - Math.max(1, Math.ceil(windowMs / SLOT_MS)) + 1;
    const total = new Map<string, Float64Array>();
    for (const slot of this.#slots ?? []) {
      if (slot === undefined || slot.at < first || slot.at > last) continue;
      for (const [partner, counts] of slot.byPartner) {
        let into = total.get(partner);
        if (into === undefined) total.set(partner, (into = new Float64Array(OUTCOMES.length)));
        for (let i = 0; i < counts.length; i++) into[i]! += counts[i]!;
      }
    }
    return total;
  }
}


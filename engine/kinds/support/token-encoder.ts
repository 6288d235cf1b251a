/**
 * Counts o200k_base tokens (js-tiktoken's ranks and split pattern) inside an expression worker;
 * token-count.ts is the gateway's side. Runs only in a worker (expression-worker.ts loads it on
 * the first token task), never on the main thread.
 *
 * js-tiktoken's own Tiktoken is not used at run time, only its data: its constructor took 2.6-5.6 s
 * of CPU here (200 000 base64 keys into a Map of joined strings) and its merge loop slices and
 * joins arrays on every step (one 512-character piece of 'a': 180 ms; 100 000 'a' in such pieces:
 * 13 s). Here the ranks go into one open-addressing hash table over their bytes (~200 ms to
 * build) and the merge is tiktoken's (lowest rank first, leftmost on ties) over a binary heap:
 * O(n log n) per piece, and it only counts. test/engine/kinds/support/token-count.test.ts checks
 * the counts against js-tiktoken's encoder.
 */

/** Longest text the split pattern and the merge see at once, in UTF-16 code units (see pieces()). */
const PIECE_CHARS = 512;

export interface TokenEncoder {
  /** Tokens in these texts, each split into pieces of at most PIECE_CHARS characters. */
  count(texts: readonly string[]): number;
}

interface Ranks {
  pat_str: string;
  bpe_ranks: string;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** FNV-1a over bytes [from, to). */
function hashOf(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i]!, 16777619);
  return hash >>> 0;
}

/** Token bytes -> rank, for the `bpe_ranks` text of a js-tiktoken ranks module ("! <offset> <base64> <base64> …"). */
class RankTable {
  private readonly store: Uint8Array;
  private readonly offsets: Int32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(bpeRanks: string) {
    const decode = new Int8Array(128).fill(-1);
    for (let i = 0; i < 64; i++) decode[BASE64.charCodeAt(i)] = i;
    const store = new Uint8Array(bpeRanks.length);
    const offsets: number[] = [];
    let written = 0;
    for (const line of bpeRanks.split('\n')) {
      const fields = line.split(' ');
      if (fields.length < 3) continue;
      const first = Number.parseInt(fields[1]!, 10);
      for (let i = 2; i < fields.length; i++) {
        const token = fields[i]!;
        const rank = first + i - 2;
        while (offsets.length <= rank + 1) offsets.push(written);
        let acc = 0;
        let bits = 0;
        for (let c = 0; c < token.length; c++) {
          const value = decode[token.charCodeAt(c)] ?? -1;
          if (value < 0) break; // '=' padding
          acc = ((acc << 6) | value) & 0xffffff;
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            store[written++] = (acc >> bits) & 0xff;
          }
        }
        offsets[rank + 1] = written;
      }
    }
    this.store = store;
    this.offsets = Int32Array.from(offsets);
    const ranks = offsets.length - 1;
    let size = 1;
    while (size < ranks * 2) size <<= 1;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    for (let rank = 0; rank < ranks; rank++) {
      const from = this.offsets[rank]!;
      const to = this.offsets[rank + 1]!;
      if (to === from) continue; // a rank the data skips
      let slot = hashOf(store, from, to) & this.mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & this.mask;
      this.slots[slot] = rank;
    }
  }

  /** The rank of bytes [from, to), or -1 when they are no token. */
  rankOf(bytes: Uint8Array, from: number, to: number): number {
    const length = to - from;
    let slot = hashOf(bytes, from, to) & this.mask;
    for (;;) {
      const rank = this.slots[slot]!;
      if (rank === -1) return -1;
      const start = this.offsets[rank]!;
      if (this.offsets[rank + 1]! - start === length) {
        let same = true;
        for (let i = 0; i < length; i++) {
          if (this.store[start + i] !== bytes[from + i]) {
            same = false;
            break;
          }
        }
        if (same) return rank;
      }
      slot = (slot + 1) & this.mask;
    }
  }
}

const NONE = 0x7fffffff;

/**
 * Tokens of one piece's bytes by tiktoken's merge: repeatedly join the adjacent pair whose joined
 * bytes have the lowest rank (leftmost first) until no pair is a token. A heap of (rank, start)
 * keys with stale entries skipped, a linked list of parts.
 */
function mergeCount(table: RankTable, bytes: Uint8Array, length: number): number {
  if (length <= 1 || table.rankOf(bytes, 0, length) >= 0) return length === 0 ? 0 : 1;
  const next = new Int32Array(length + 1);
  const prev = new Int32Array(length + 1);
  const pairRank = new Int32Array(length + 1);
  for (let i = 0; i <= length; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  // the rank of the pair starting at part i (its end is the start of the part after next)
  const rankAt = (i: number): number => {
    const second = next[i]!;
    if (second >= length) return NONE;
    const rank = table.rankOf(bytes, i, next[second]!);
    return rank < 0 ? NONE : rank;
  };
  // heap of rank * SPAN + start; SPAN > length keeps keys exact in a double
  const span = length + 1;
  const heap: number[] = [];
  const push = (key: number): void => {
    let at = heap.length;
    heap.push(key);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]! <= key) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = key;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= heap.length) break;
        if (child + 1 < heap.length && heap[child + 1]! < heap[child]!) child++;
        if (heap[child]! >= last) break;
        heap[at] = heap[child]!;
        at = child;
      }
      heap[at] = last;
    }
    return top;
  };
  for (let i = 0; i < length; i++) {
    pairRank[i] = rankAt(i);
    if (pairRank[i] !== NONE) push(pairRank[i]! * span + i);
  }
  let parts = length;
  while (heap.length > 0) {
    const key = pop();
    const start = key % span;
    const rank = (key - start) / span;
    if (pairRank[start] !== rank) continue; // stale: that part was joined or its pair changed
    // join part `start` with the one after it
    const gone = next[start]!;
    next[start] = next[gone]!;
    prev[next[gone]!] = start;
    pairRank[gone] = NONE;
    parts--;
    pairRank[start] = rankAt(start);
    if (pairRank[start] !== NONE) push(pairRank[start]! * span + start);
    const before = prev[start]!;
    if (before >= 0) {
      pairRank[before] = rankAt(before);
      if (pairRank[before] !== NONE) push(pairRank[before]! * span + before);
    }
  }
  return parts;
}

const isSpace = (code: number): boolean => code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x2028 || code === 0x2029 || code === 0x3000;

/**
 * Pieces of at most PIECE_CHARS characters: cut before a space that follows a non-space when
 * there is one (where the pattern cuts anyway: " word" stays one piece), else before any
 * whitespace, else at the limit but never inside a surrogate pair. Text this short is one piece,
 * so its count is tiktoken's exactly; longer text may differ by a token at a cut.
 */
function* pieces(text: string): Generator<string> {
  let start = 0;
  while (text.length - start > PIECE_CHARS) {
    const limit = start + PIECE_CHARS;
    let cut = -1;
    let anySpace = -1;
    for (let i = limit; i > start; i--) {
      const code = text.charCodeAt(i);
      if (!isSpace(code)) continue;
      if (anySpace < 0) anySpace = i;
      if (code === 32 && !isSpace(text.charCodeAt(i - 1))) {
        cut = i;
        break;
      }
    }
    if (cut < 0) cut = anySpace;
    if (cut < 0) {
      cut = limit;
      const code = text.charCodeAt(cut);
      if (code >= 0xdc00 && code <= 0xdfff) cut--; // a low surrogate: keep the pair together
    }
    yield text.slice(start, cut);
    start = cut;
  }
  if (start < text.length) yield text.slice(start);
}

/**
 * Builds the encoder (~0.4 s of CPU with the import): call once per worker, on first use, with
 * the URL of js-tiktoken's `ranks/o200k_base` module (expression-pool.ts resolves it).
 */
export async function loadTokenEncoder(ranksUrl: string): Promise<TokenEncoder> {
  const ranks = ((await import(ranksUrl)) as { default: Ranks }).default;
  const table = new RankTable(ranks.bpe_ranks);
  const pattern = new RegExp(ranks.pat_str, 'gu');
  const encoder = new TextEncoder();
  // a piece of PIECE_CHARS code units is at most 3 bytes each in UTF-8 (a surrogate pair: 4 for 2)
  const buffer = new Uint8Array(PIECE_CHARS * 3);
  return {
    count(texts) {
      let tokens = 0;
      for (const text of texts) {
        for (const piece of pieces(text)) {
          for (const match of piece.matchAll(pattern)) {
            const { written } = encoder.encodeInto(match[0], buffer);
            tokens += mergeCount(table, buffer, written);
          }
        }
      }
      return tokens;
    },
  };
}

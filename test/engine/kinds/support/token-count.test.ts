import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressionPool } from '../../../../engine/kinds/support/expression-pool.ts';
import type { EvaluationLimits } from '../../../../engine/kinds/support/jsonata-bounds.ts';
import { MAX_TOKENIZED_CHARS, estimateTokens, tokenCounter } from '../../../../engine/kinds/support/token-count.ts';

// Token counts come from the expression worker pool (the encoder never runs on the gateway's
// thread) and must be js-tiktoken's o200k_base counts; what the pool cannot answer is estimated.

const LIMITS: EvaluationLimits = { timeoutMs: 1_000, depth: 300, sequence: 100_000, stringChars: 10_000, resultChars: 100_000 };
const STALL = '$count($distinct([1..50000]))'; // one JSONata step, O(n²): holds its worker until the deadline

describe('token counts in the worker pool', () => {
  const pool = createExpressionPool({ threads: 1, queue: 8 });
  const counter = tokenCounter(pool);
  let reference: Tiktoken;
  beforeAll(async () => {
    reference = new Tiktoken(o200k); // js-tiktoken's own encoder, built here (seconds of CPU)
    await pool.countTokens(['warm'], { deadlineMs: 60_000, coldDeadlineMs: 60_000, demoteMs: 60_000 }); // builds the worker's encoder
  }, 120_000);
  afterAll(() => pool.close());

  it('counts what js-tiktoken counts, for known strings', async () => {
    const known = [
      'Hello, world! This is a test of the tokenizer.',
      'héllo wörld 日本語のテキスト 🎉🎉 emoji\n\n  spaces\tand\ttabs',
      "It's we're they've I'd CAPS'LL {\"json\": [1, 2, 3]}",
      'lone \ud800 surrogate',
      'x'.repeat(512),
    ];
    for (const text of known) expect(await counter.count([text])).toEqual({ tokens: reference.encode(text).length, estimated: true });
    expect(reference.encode(known[0]!).length).toBe(12); // a fixed point: the reference itself is o200k_base
  });

  it('counts what js-tiktoken counts, for any text up to a piece long', async () => {
    const alphabet = [...'abcdefghijklmnopqrstuvwxyz ABCDEFG.,;:!?\n\t\r0123456789éü日本語🎉-_()[]{}\'"/\\'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...alphabet), { maxLength: 400 }), async (chars) => {
        const text = chars.join('');
        expect((await counter.count([text])).tokens).toBe(reference.encode(text).length);
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('cuts long prose where the split pattern cuts anyway: the count stays exact', async () => {
    const prose = 'The quick brown fox jumps over the lazy dog, twice; then 42 more times!  '.repeat(300);
    expect(prose.length).toBeGreaterThan(20_000);
    expect((await counter.count([prose])).tokens).toBe(reference.encode(prose).length);
  });

  it('adds the counts of several texts', async () => {
    const texts = ['You are terse.', 'What is 2 + 2?', ''];
    expect((await counter.count(texts)).tokens).toBe(texts.reduce((sum, text) => sum + reference.encode(text).length, 0));
    expect(await counter.count([])).toEqual({ tokens: 0, estimated: true });
  });

  it('counts 100 000 repeated characters exactly while the gateway thread keeps ticking', async () => {
    // one 100 000-character piece ran > 60 s in js-tiktoken's merge, on whichever thread ran it
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      const counted = await counter.count(['a'.repeat(100_000)]);
      expect(counted).toEqual({ tokens: 12_500, estimated: true }); // 8 'a' a token: counted, not the 25 000 estimate
    } finally {
      clearInterval(ticker);
    }
    expect(ticks).toBeGreaterThanOrEqual(2); // a synchronous count would have let none fire
  }, 30_000);

  it('counts up to MAX_TOKENIZED_CHARS and estimates the rest', async () => {
    const counted = await counter.count(['a'.repeat(MAX_TOKENIZED_CHARS - 8), 'a'.repeat(8 + 4_000)]);
    expect(counted.tokens).toBe(MAX_TOKENIZED_CHARS / 8 + 1_000);
  }, 30_000);

  it('stops a count at its deadline (the worker is replaced)', async () => {
    const stopped = pool.stats.stopped;
    await expect(pool.countTokens(['a'.repeat(200_000)], { deadlineMs: 1, coldDeadlineMs: 1, demoteMs: 1 })).rejects.toMatchObject({ code: 'D1012', message: expect.stringMatching(/token count ran past/) });
    expect(pool.stats.stopped).toBe(stopped + 1);
  }, 30_000);
});

describe('the estimate when the pool cannot count', () => {
  const text = 'a'.repeat(1_001);

  it('estimates ceil(chars / 4) without a pool', async () => {
    expect(estimateTokens(1_001)).toBe(251);
    expect(await tokenCounter(undefined).count([text])).toEqual({ tokens: 251, estimated: true });
  });

  it('estimates when the pool is closed', async () => {
    const pool = createExpressionPool({ threads: 1, queue: 8 });
    await pool.close();
    expect(await tokenCounter(pool).count([text, 'bcdef'])).toEqual({ tokens: 252, estimated: true });
  });

  it('estimates at once when the pool is busy, and counts again once it is free', async () => {
    const pool = createExpressionPool({ threads: 1, queue: 1 });
    try {
      await pool.countTokens(['warm'], { deadlineMs: 60_000, coldDeadlineMs: 60_000, demoteMs: 60_000 }); // a worker ready, so the stall runs rather than waits
      const running = pool.run({ expression: 1, source: STALL, limits: LIMITS, input: '{}' }, { deadlineMs: 300 });
      const queued = pool.run({ expression: 2, source: '1', limits: LIMITS, input: '{}' }, { deadlineMs: 3_000 });
      expect(await tokenCounter(pool).count([text])).toEqual({ tokens: 251, estimated: true });
      await expect(running).rejects.toMatchObject({ code: 'D1012' });
      expect(await queued).toEqual({ json: '1' });
      await pool.countTokens(['warm'], { deadlineMs: 60_000, coldDeadlineMs: 60_000, demoteMs: 60_000 });
      expect(await tokenCounter(pool).count([text])).toEqual({ tokens: Math.ceil(1_001 / 8), estimated: true });
    } finally {
      await pool.close();
    }
  }, 90_000);
});

import { describe, expect, it } from 'vitest';
import { createIntrospectionCache, IntrospectionUnavailable, tokenKey, type Introspection } from '../../../../engine/kinds/support/introspection.ts';

/** The introspection cache with a hand-moved clock: what is kept, for how long, and how many calls it makes. */
describe('the introspection cache (engine/kinds/support/introspection.ts)', () => {
  const active = (expiresAt: number): Introspection => ({ active: true, claims: { active: true, client_id: 'acme' }, expiresAt });
  const inactive: Introspection = { active: false, reason: 'the token is not active' };
  function setup(options: { size?: number; maxInFlight?: number } = {}) {
    const clock = { now: 1_000_000 };
    const cache = createIntrospectionCache({ size: options.size ?? 100, ttlMs: 60_000, negativeTtlMs: 5_000, now: () => clock.now, ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}) });
    const calls: string[] = [];
    const answerWith = (result: Introspection) => async (token: string) => {
      calls.push(token);
      return result;
    };
    return { clock, cache, calls, answerWith };
  }

  it('keys tokens by their SHA-256, never the token itself', () => {
    const key = tokenKey('opaque-token-value');
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain('opaque');
    expect(tokenKey('opaque-token-value')).toBe(key);
  });

  it.each([
    ['the configured time, when the token lives longer', 3_600_000, 60_000],
    ['the token\'s exp, when it comes first', 20_000, 20_000],
  ])('keeps an active answer for %s', async (_name, lifetime, kept) => {
    const { clock, cache, calls, answerWith } = setup();
    await cache.resolve('k', 't', answerWith(active(clock.now + lifetime)));
    clock.now += kept - 1;
    expect(cache.get('k')).toMatchObject({ active: true });
    clock.now += 1;
    expect(cache.get('k')).toBeUndefined();
    expect(calls).toEqual(['t']);
  });

  it('keeps an inactive answer briefly', async () => {
    const { clock, cache, answerWith } = setup();
    await cache.resolve('k', 't', answerWith(inactive));
    clock.now += 4_999;
    expect(cache.get('k')).toEqual(inactive);
    clock.now += 1;
    expect(cache.get('k')).toBeUndefined();
  });

  it('asks once for many callers of one token', async () => {
    const { clock, cache, calls, answerWith } = setup();
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.resolve('k', 't', answerWith(active(clock.now + 3_600_000)))));
    expect(results.every((r) => r.active)).toBe(true);
    expect(calls).toEqual(['t']);
  });

  it('holds at most `size` answers, dropping the oldest', async () => {
    const { clock, cache, answerWith } = setup({ size: 3 });
    for (const key of ['a', 'b', 'c', 'd']) await cache.resolve(key, key, answerWith(active(clock.now + 3_600_000)));
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('d')).toMatchObject({ active: true });
  });

  it('does not keep an unavailable answer, and refuses calls beyond the in-flight bound', async () => {
    const { cache } = setup({ maxInFlight: 2 });
    let release!: () => void;
    const held = new Promise<Introspection>((resolve) => (release = () => resolve(inactive)));
    const slow = () => held;
    const first = cache.resolve('a', 'a', slow);
    const second = cache.resolve('b', 'b', slow);
    await expect(cache.resolve('c', 'c', slow)).rejects.toBeInstanceOf(IntrospectionUnavailable);
    release();
    await Promise.all([first, second]);
    await expect(cache.resolve('d', 'd', () => Promise.reject(new IntrospectionUnavailable('down')))).rejects.toBeInstanceOf(IntrospectionUnavailable);
    expect(cache.get('d')).toBeUndefined();
  });
});

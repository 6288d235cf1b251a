import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createAttemptLimit } from '../../../engine/admin/attempt-limit.ts';
import { ADMIN_FAILURE_WINDOW_MS, createAuthenticator } from '../../../engine/admin/auth.ts';
import { createMemoryRateLimitStore } from '../../../engine/kinds/support/rate-limit-store.ts';
import { REPO } from '../../helpers/gateway.ts';

/*
 * Admin tokens are compared in constant time (README: "tokens compared in constant time"). Timing
 * itself is not measured here (a functional test never judges the clock); what makes the time
 * independent of the token is: the presented token is hashed, so every comparison is of two
 * 32-byte digests whatever its length; the comparison is crypto.timingSafeEqual; and every
 * configured token is compared, a match does not stop the loop. Those are checked by watching
 * crypto.timingSafeEqual itself while tokens are checked.
 */

const TOKENS = [
  { name: 'ada', role: 'admin', token: 'ada-admin-token-0123456789' },
  { name: 'pat', role: 'publisher', token: 'pat-publisher-token-0123456789' },
  { name: 'eve', role: 'editor', token: 'eve-editor-token-0123456789' },
] as const;

/** Every call of crypto.timingSafeEqual while `run` runs (the ESM binding the engine imported included). */
async function watchComparisons<T>(run: () => Promise<T>): Promise<{ result: T | undefined; error: unknown; calls: Array<[Buffer, Buffer]> }> {
  const original = crypto.timingSafeEqual;
  const calls: Array<[Buffer, Buffer]> = [];
  crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    calls.push([Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)]);
    return original(a, b);
  }) as typeof crypto.timingSafeEqual;
  syncBuiltinESMExports();
  try {
    return { result: await run(), error: undefined, calls };
  } catch (error) {
    return { result: undefined, error, calls };
  } finally {
    crypto.timingSafeEqual = original;
    syncBuiltinESMExports();
  }
}

/** Wrong tokens counted in a store of this test's own, as the gateway counts them in its rate-limit store. */
const failuresAllowing = (max: number) => createAttemptLimit(createMemoryRateLimitStore(), { scope: 'admin/token-failures', max, windowMs: ADMIN_FAILURE_WINDOW_MS });

describe('admin tokens, compared in constant time', () => {
  afterEach(() => expect(crypto.timingSafeEqual.name).toBe('timingSafeEqual'));

  const valid = TOKENS[1].token;
  it.each([
    ['the token itself', valid, 'pat'],
    ['a prefix of it', valid.slice(0, -1), undefined],
    ['it and one character more', `${valid}x`, undefined],
    ['a token of its length differing in the last character', `${valid.slice(0, -1)}X`, undefined],
    ['a token of its length differing in the first character', `X${valid.slice(1)}`, undefined],
    ['a one-character token', 'a', undefined],
    ['a 4 KB token', 'a'.repeat(4096), undefined],
  ])('%s: every configured token compared, each as two 32-byte digests with timingSafeEqual', async (_name, presented, who) => {
    const auth = createAuthenticator(TOKENS, failuresAllowing(1_000));
    const seen = await watchComparisons(() => auth.authenticate(`Bearer ${presented}`, 'tester'));
    if (who === undefined) expect(seen.error).toMatchObject({ code: 'unauthorized' });
    else expect(seen.result).toEqual({ name: who, role: 'publisher' });
    // not stopped at a match (the match is the second of three), nor by a length that differs
    expect(seen.calls).toHaveLength(TOKENS.length);
    for (const [a, b] of seen.calls) expect([a.length, b.length]).toEqual([32, 32]);
    // the presented side is the same digest in every comparison: the token's, never the token
    const presentedDigest = crypto.createHash('sha256').update(presented).digest();
    for (const [, b] of seen.calls) expect(b.equals(presentedDigest)).toBe(true);
    expect(new Set(seen.calls.map(([a]) => a.toString('hex')))).toEqual(new Set(TOKENS.map((t) => crypto.createHash('sha256').update(t.token).digest('hex'))));
  });

  it('the source compares nothing token-derived in another way (a structural check beside the one above)', () => {
    const source = readFileSync(join(REPO, 'engine', 'admin', 'auth.ts'), 'utf8');
    const authenticate = source.slice(source.indexOf('authenticate(authorization'), source.indexOf("return { name: found.name"));
    expect(authenticate).toContain('timingSafeEqual(entry.digest, presented)');
    expect(authenticate).not.toMatch(/\bbreak\b|\.find\(|\.some\(|===\s*presented|presented\s*===|\.equals\(|\.compare\(/);
  });
});

describe('admin token guessing is cut off', () => {
  it('after the limit of wrong tokens from an address, every call from it is refused, the right token too, with how long to wait; other addresses are not', async () => {
    const auth = createAuthenticator(TOKENS, failuresAllowing(3));
    // a header that is no bearer token is refused without counting: it guesses nothing
    await expect(auth.authenticate('Basic YWRhOmFkYQ==', '192.0.2.1')).rejects.toMatchObject({ code: 'unauthorized' });
    for (let i = 0; i < 3; i++) await expect(auth.authenticate(`Bearer guess-${i}-0123456789abcdef`, '192.0.2.1')).rejects.toMatchObject({ code: 'unauthorized' });
    const refused = await auth.authenticate(`Bearer ${TOKENS[0].token}`, '192.0.2.1').then(() => undefined, (error: unknown) => error);
    expect(refused).toMatchObject({ code: 'too_many_attempts', message: expect.stringMatching(/retry after \d+ seconds/) });
    expect((refused as { extra: { retryAfter: number } }).extra.retryAfter).toBeGreaterThan(0);
    expect(await auth.authenticate(`Bearer ${TOKENS[0].token}`, '192.0.2.2')).toEqual({ name: 'ada', role: 'admin' });
  });
});

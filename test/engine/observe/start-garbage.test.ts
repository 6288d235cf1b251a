import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../engine/observe/start-garbage.ts';

describe("the start's garbage collection", () => {
  it('collects what nothing holds, and leaves no gc function to contexts made afterwards', async () => {
    let garbage: { rows: number[] } | undefined = { rows: Array.from({ length: 200_000 }, (_, i) => i) };
    const watched = new WeakRef(garbage);
    garbage = undefined;
    await new Promise((resolve) => setTimeout(resolve, 0)); // a WeakRef holds its target until the job that made it ends
    const { ms, heapBefore, heapAfter } = collectGarbage();
    expect(watched.deref()).toBeUndefined();
    expect(heapAfter).toBeLessThan(heapBefore);
    expect(ms).toBeGreaterThan(0);
    expect(runInNewContext('typeof gc')).toBe('undefined');
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});

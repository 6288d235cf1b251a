import { AxeBuilder } from '@axe-core/playwright';
import type { Page, Request } from 'playwright-core';

/**
 * An axe-core scan of `page` that finds what `new AxeBuilder({ page })` finds, for a fraction of
 * the time on the editor's large pages:
 * - legacy mode: axe.run in the page itself, instead of axe.runPartial there and axe.finishRun in
 *   a blank page opened for each scan. The two differ only for cross-origin frames, which the
 *   editor has none of (it has no frames at all);
 * - resultTypes ['violations']: every rule still runs on every element and each violation lists
 *   every element it failed on; only the passes, incomplete and inapplicable lists are cut to one
 *   element each, so axe no longer serialises (selector, HTML snippet) each of thousands of
 *   passing elements and ships them to the test.
 */
export function axeScan(page: Page): AxeBuilder {
  return new AxeBuilder({ page }).setLegacyMode(true).options({ resultTypes: ['violations'] });
}

/** Every axe violation on the page once it is still (settled), one line each: rule, impact, the first targets. */
export async function axeViolations(page: Page): Promise<string[]> {
  await settled(page);
  const result = await axeScan(page).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(' | ')}`);
}

/** The serious and critical axe violations inside `parts` (selectors), one line per rule and target. */
export async function seriousAxeProblems(page: Page, ...parts: string[]): Promise<string[]> {
  const result = await parts.reduce((axe, part) => axe.include(part), axeScan(page)).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

const inFlight = new WeakMap<Page, Set<Request>>();

/** Counts the page's requests in flight from now on, for settled(): call it on a new page. */
export function trackRequests(page: Page): void {
  const pending = new Set<Request>();
  inFlight.set(page, pending);
  page.on('request', (request) => pending.add(request));
  page.on('requestfinished', (request) => pending.delete(request));
  page.on('requestfailed', (request) => pending.delete(request));
}

/**
 * Resolves once the page is still, as a person sees it before judging it: no request in flight
 * (with trackRequests), no finite animation or transition running, and the DOM unchanged over
 * two animation frames. A signal, not a fixed sleep: a scan then judges the page's settled state.
 */
export async function settled(page: Page): Promise<void> {
  const pending = inFlight.get(page);
  if (pending !== undefined) await expectIdle(pending);
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        let quietFrames = 0;
        let changed = false;
        const observer = new MutationObserver(() => void (changed = true));
        observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
        const frame = () => {
          const moving = document.getAnimations().some((a) => a.playState === 'running' && a.effect?.getTiming().iterations !== Infinity);
          quietFrames = changed || moving ? 0 : quietFrames + 1;
          changed = false;
          if (quietFrames >= 2) {
            observer.disconnect();
            resolve();
          } else requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
  );
  if (pending !== undefined) await expectIdle(pending);
}

/** Waits for the requests in flight to end (a guard of 15 s against a hang, not a speed bound). */
async function expectIdle(pending: Set<Request>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (pending.size > 0) {
    if (Date.now() > deadline) throw new Error(`requests still in flight: ${[...pending].map((r) => r.url()).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

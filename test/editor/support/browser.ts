import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildEditorIfNeeded } from '../../../editor/build-if-needed.mjs';
import { expect } from 'vitest';
import { REPO, type TestGateway } from '../../helpers/gateway.ts';

/** Debian's Chromium; playwright-core never downloads a browser of its own. */
const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(REPO, 'test-results', 'screenshots');

/** In CI (CI=true) a missing browser is a failure, never a skip: .ci/run installs it. */
const mustHaveChromium = process.env.CI === 'true';

/**
 * Whether browser tests can run: the one guard every browser test file uses
 * (`describe.runIf(chromiumAvailable())`). Without Chromium they are skipped with a loud
 * message, except in CI, where it throws, so the file fails at collection.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (mustHaveChromium) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: browser tests must run in CI (.ci/run installs it: apt-get install -y chromium)`);
  const line = '='.repeat(78);
  console.warn(`\n${line}\nBROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM}.\nInstall it with: apt-get update && apt-get install -y chromium\n${line}\n`);
  return false;
}

/**
 * Builds the editor when editor/dist is stale (a fresh checkout has none). A lock directory keeps
 * two test files from building at once.
 */
export async function ensureEditorBuilt(): Promise<void> {
  const lock = join(REPO, 'editor', '.build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await buildEditorIfNeeded({ quiet: true });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * How long a page action or wait may take before it fails (Playwright's own default is 5 s): a
 * browser test asserts what the editor does, not how fast; a loaded 2-core CI machine is slow.
 */
const ACTION_TIMEOUT_MS = 15_000;

export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'],
  });
  // every context the tests open (browser.newPage opens one too) waits as long
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args: Parameters<Browser['newContext']>) => {
    const context = await newContext(...args);
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    return context;
  };
  return browser;
}

/** Writes a screenshot of the page to test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/**
 * Collects uncaught page errors and console errors, so a test can assert the editor logged none.
 * Refused API calls (401, 403, 409) are part of the scenarios and the UI answers them, so the
 * browser's own "Failed to load resource" lines are not counted.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  return errors;
}

/** Signs in to the editor at `url` with an admin token, as a person does, and waits for the workflow list. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/editor/`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workflows' }).waitFor();
}

/** Opens a workflow in the editor (signed in already) and waits for its canvas to be drawn. */
export async function openWorkflow(page: Page, url: string, id: string): Promise<void> {
  await page.goto(`${url}/editor/#/workflows/${encodeURIComponent(id)}`);
  await page.locator('.react-flow__node').first().waitFor();
}

/**
 * The admin API of a test's gateway as the holder of `token`: each call answers the JSON body and
 * fails the test on a status of 300 or more. `gateway` is read at each call (tests start it in beforeAll).
 */
export function adminAs(gateway: () => TestGateway, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await gateway().fetch(`/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status, `${method} ${path}`).toBeLessThan(300);
    return response.json();
  };
}

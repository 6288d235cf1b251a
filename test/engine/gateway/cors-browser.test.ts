/**
 * CORS as a browser does it: a page on another origin calls a jwt-protected route with an
 * Authorization header, so Chromium sends a preflight first (which carries no token); the cors
 * node answers it and the call goes through. A page on an origin the node does not allow gets
 * nothing its script can read.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { startGateway, workflow } from '../../helpers/workflow.ts';
import { chromiumAvailable, launchChromium } from '../../editor/support/browser.ts';

/** A page server on its own port of 127.0.0.1: an origin of its own. */
async function startPageServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>partner app</title><p>partner app</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe.runIf(chromiumAvailable())('cors from a real browser on another origin', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let issuer: TestIssuer;
  let browser: Browser;
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };

  beforeAll(async () => {
    [issuer, upstream, allowed, other, browser] = await Promise.all([createIssuer(), startUpstream(), startPageServer(), startPageServer(), launchChromium()]);
    gw = await startGateway(
      [
        workflow(
          'browser-orders',
          { path: '/api/browser-orders', methods: ['GET', 'OPTIONS'] },
          [
            { id: 'cors', kind: 'cors', config: { origins: [allowed.origin], headers: ['authorization'] } },
            { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } },
            { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } },
          ],
          [
            ['cors', 'ok', 'verify'],
            ['verify', 'ok', 'call'],
          ],
        ),
      ],
      { env: { UPSTREAM: upstream.url } },
    );
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
    for (const page of [allowed, other]) page?.server.close();
  });

  /** Calls the route from a page of `origin` with a bearer token, as the page's script would. */
  async function callFrom(origin: string, token: string) {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(
        async ({ url, token }) => {
          try {
            const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
            return { status: res.status, body: (await res.json()) as { method?: string } };
          } catch (error) {
            return { error: String(error) };
          }
        },
        { url: `${gw.url}/api/browser-orders`, token },
      );
    } finally {
      await page.close();
    }
  }

  it('answers the preflight without a token and lets the script read the answer', async () => {
    const result = await callFrom(allowed.origin, await issuer.sign({ sub: 'alice' }));
    expect(result).toMatchObject({ status: 200, body: { method: 'GET' } });
    const methods = gw.logs.filter((line) => line.msg === 'request' && line.workflow === 'browser-orders').map((line) => line.method);
    expect(methods).toEqual(expect.arrayContaining(['OPTIONS', 'GET']));
    expect(upstream.received.map((r) => r.method)).toEqual(['GET']); // the preflight never reaches the upstream
  });

  it('gives a page on an origin it does not allow nothing to read, and never calls the upstream for it', async () => {
    const before = upstream.received.length;
    const result = await callFrom(other.origin, await issuer.sign({ sub: 'alice' }));
    expect(result).toEqual({ error: expect.stringContaining('Failed to fetch') });
    expect(upstream.received.length).toBe(before);
  });
});

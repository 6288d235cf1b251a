// Baseline: what a team writes instead of a gateway — Express 5, jose's jwtVerify against a
// local JWKS (RS256 and ES256 keys, issuer and audience checked) and the scope, then an undici
// Pool forwarding to the upstream, the answer streamed back as bench/bare-proxy.ts does. It
// verifies every token on every request, as such services do (no cache). Does what sluice-b does.
// Usage: express-jose.ts <upstream origin> <JWKS file>. Prints `LISTENING <port>` once bound.
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Pool } from 'undici';
import { AUDIENCE, ISSUER, SCOPE, UPSTREAM_PATH } from './fixture.ts';

const [origin, jwksFile] = process.argv.slice(2);
if (!origin || !jwksFile) throw new Error('usage: express-jose.ts <upstream origin> <JWKS file>');
const keys = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, 'utf8')));
const pool = new Pool(origin, { connections: 128 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get(UPSTREAM_PATH, async (req, res) => {
  const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (token === undefined) return void res.status(401).json({ error: 'missing_token' });
  let scope: unknown;
  try {
    ({ payload: { scope } } = await jwtVerify(token, keys, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256', 'ES256'], requiredClaims: ['exp'] }));
  } catch {
    return void res.status(401).json({ error: 'invalid_token' });
  }
  if (typeof scope !== 'string' || !scope.split(' ').includes(SCOPE)) return void res.status(403).json({ error: 'insufficient_scope' });
  try {
    const upstream = await pool.request({ method: 'GET', path: UPSTREAM_PATH, headers: forwardable(req.headers) });
    res.writeHead(upstream.statusCode, forwardable(upstream.headers));
    upstream.body.once('error', (err) => res.destroy(err));
    res.once('close', () => upstream.body.destroy());
    upstream.body.pipe(res);
  } catch (err) {
    res.status(502).type('text/plain').send(`bad gateway: ${(err as Error).message}`);
  }
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
});

// run.ts keeps our stdin open; if it dies without killing us (SIGKILL), stdin ends and we go too.
process.stdin.on('end', () => process.exit(0)).resume();

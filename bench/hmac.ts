// sluice-hmac's requests: a partner of its own with an HMAC secret made through the admin API,
// and, for each run, requests signed with it (hmac-verify refuses a signature seen before, so
// every request is new: its own query, its own signature), sent once each by wrk from a list.
import { createHash, createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenList } from './loadgen.ts';
import { makeTempDir, type Gateway } from './servers.ts';

/** The partner signing sluice-hmac's requests (not acme: the JWT rows' partner stays unregistered). */
const PARTNER = 'bench-signer';
const EMPTY_BODY_SHA256 = createHash('sha256').update('').digest('hex');

/** `keyId=…,ts=…,sig=…` over hmac-verify's canonical string of a GET without a body. */
function signature(keyId: string, secret: string, pathWithQuery: string, ts: number): string {
  const sig = createHmac('sha256', secret).update(`GET\n${pathWithQuery}\n${ts}\n${EMPTY_BODY_SHA256}`).digest('hex');
  return `keyId=${keyId},ts=${ts},sig=${sig}`;
}

/**
 * Registers the partner and its secret on `gateway`, waits until `path` takes a signed request,
 * and signs the requests of each run: `counts[run]` of them (run 0: the warm-up).
 */
export async function signedRequests(gateway: Gateway, path: string, counts: number[]): Promise<{ tokens: (run: number) => TokenList; check: { header: string; path: string } }> {
  await gateway.admin('POST', '/partners', { id: PARTNER, name: 'Bench signer' });
  const { id: keyId, secret } = (await gateway.admin('POST', `/partners/${PARTNER}/hmac-secrets`, {})) as { id: string; secret: string };
  const ts = Math.floor(Date.now() / 1000);
  // the partner directory follows the store within the publish bound: wait for the first 200
  for (let tries = 0; ; tries++) {
    const probe = `${path}?probe=${tries}`;
    const res = await fetch(`${gateway.url}${probe}`, { headers: { signature: signature(keyId, secret, probe, ts) } });
    await res.arrayBuffer();
    if (res.status === 200) break;
    if (tries > 100) throw new Error(`sluice-hmac: ${path} answered ${res.status} to a signed request, not 200`);
    await sleep(50);
  }
  const dir = makeTempDir('sluice-hmac-');
  const files = counts.map((count, run) => {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const pathWithQuery = `${path}?n=${run}-${i}`;
      lines.push(`${pathWithQuery}\t${signature(keyId, secret, pathWithQuery, ts)}`);
    }
    const file = join(dir, `run-${run}.txt`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  });
  const checkPath = `${path}?check`;
  return { tokens: (run) => ({ file: files[run]!, once: true, header: 'signature' }), check: { header: signature(keyId, secret, checkPath, ts), path: checkPath } };
}

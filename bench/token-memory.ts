// `npx tsx --expose-gc bench/token-memory.ts [tokens]`: the memory a jwt-verify node's cache of
// verified tokens holds per token, and the CPU time of a first verification, measured in this
// process on the node's own runtime (inline JWKS, issuer and audience, as sluice-b). For each
// algorithm: `tokens` new tokens (default 10,000, the cache's size) go through the node once
// (every one a miss), the heap is measured after a full GC before and after, and then as many
// more go through, to show the cache holds its bound.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerifyKind } from '../shared/nodes/jwt-verify.ts';
import { jwtVerify } from '../engine/kinds/jwt-verify.ts';
import type { Exchange } from '../engine/kinds/types.ts';
import { AUDIENCE, ISSUER, makeCredentials, type SigningKey } from './fixture.ts';
import { fmt, printTable } from './report.ts';
import { cleanUp, makeTempDir } from './servers.ts';
import { signTokens } from './tokens.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc: npx tsx --expose-gc bench/token-memory.ts');
const count = Number(process.argv[2] ?? 10_000);
const credentials = await makeCredentials();
const dir = makeTempDir('sluice-token-memory-');

/** The least a node needs of its context with an inline key set: the partner directory and its workflow. */
const context = { workflowId: 'bench', partners: { current: { partners: new Map(), clients: new Map(), guarded: new Map() } } } as unknown as Parameters<typeof jwtVerify>[1];

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const rows: string[][] = [];
for (const key of [credentials.rs256, credentials.es256] satisfies SigningKey[]) {
  const files = [join(dir, `${key.alg}-1.txt`), join(dir, `${key.alg}-2.txt`)];
  await signTokens(files.map((file, i) => ({ key, count, prefix: `${key.alg}-${i}`, file })), dir);
  const prepare = () => jwtVerify(jwtVerifyKind.config.parse({ jwks: { keys: [key.publicJwk] }, algorithms: [key.alg], issuer: ISSUER, audience: AUDIENCE }), context);
  let node = await prepare();
  const run = async (file: string) => {
    const tokens = readFileSync(file, 'utf8').trim().split('\n');
    const before = process.cpuUsage();
    for (const token of tokens) {
      // a header string of its own, as node:http makes one per request
      const exchange = { request: { headers: { authorization: `Bearer ${token}`.slice(0) } }, problemParams: undefined } as unknown as Exchange;
      const port = await node.run(exchange);
      if (port !== 'ok') throw new Error(`${key.alg}: a token was refused (${port}): ${JSON.stringify(exchange.problemParams)}`);
    }
    const used = process.cpuUsage(before);
    return { tokens: tokens.length, cpuUs: (used.user + used.system) / tokens.length, chars: tokens[0]!.length };
  };
  // V8's compilation, not measured; then a node of the same config with its cache empty
  await run(files[0]!);
  node = await prepare();
  const empty = heapAfterGc();
  const first = await run(files[1]!);
  const full = heapAfterGc();
  await run(files[0]!); // as many more: the cache keeps its bound
  const beyond = heapAfterGc();
  rows.push([key.alg, String(first.chars), fmt((full - empty) / first.tokens, 0), fmt((beyond - empty) / first.tokens, 0), fmt(first.cpuUs, 1)]);
}
printTable(['alg', 'token chars', `bytes/entry (${count} cached)`, `same after ${2 * count} tokens`, 'CPU µs per first use'], rows);
console.log('(heap after a full GC, minus the heap with the node prepared and its cache empty; CPU time of this process per token, each one new)');
cleanUp(false);

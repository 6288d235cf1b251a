// The mTLS load generator (wrk and autocannon present no client certificate): CONNECTIONS loops
// of GETs over node:https with a client certificate, each on a connection of its own per request
// (`new`: a full TLS handshake every time) or on kept-alive connections (`keepalive`). Prints one
// JSON line: requests, seconds, p50/p99 ms, failures.
// Usage: tls-load.mjs <url> <seconds> <connections> <new|keepalive> <ca.pem> <cert.pem> <key.pem>
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

const [url, secondsText, connectionsText, mode, caFile, certFile, keyFile] = process.argv.slice(2);
if (keyFile === undefined || (mode !== 'new' && mode !== 'keepalive')) throw new Error('usage: tls-load <url> <seconds> <connections> <new|keepalive> <ca> <cert> <key>');
const tls = { ca: readFileSync(caFile!), cert: readFileSync(certFile!), key: readFileSync(keyFile) };
const connections = Number(connectionsText);
// keep-alive: one pooled connection per loop; new: no agent, so every request is a new TCP and TLS connection (no session reuse)
const agent = mode === 'keepalive' ? new Agent({ keepAlive: true, maxSockets: connections, ...tls }) : false;
const end = performance.now() + Number(secondsText) * 1000;
const latencies: number[] = [];
let failures = 0;

function once(): Promise<void> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(url!, { agent, ...(agent === false ? tls : {}) }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - started);
        else failures++;
        resolve();
      });
    });
    req.on('error', () => {
      failures++;
      resolve();
    });
    req.end();
  });
}

async function loop(): Promise<void> {
  while (performance.now() < end) await once();
}

const started = performance.now();
await Promise.all(Array.from({ length: connections }, loop));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
console.log(JSON.stringify({ requests: latencies.length, seconds, p50Ms: at(50), p99Ms: at(99), failures }));
if (agent) agent.destroy();

#!/usr/bin/env node
import cluster from 'node:cluster';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { validateWorkflow, toMachineConfig } from '../shared/compile/index.ts';
import { workflowJsonSchema, catalogJsonSchema } from '../shared/compile/json-schema.ts';
import { adminTarget, applyDirectory, createAdminClient } from './admin/client.ts';
import { relayStdio } from './admin/mcp/stdio.ts';
import { PARTNER_USAGE, partnerCommand } from './admin/partner-cli.ts';
import { fail, runTestsOffline, validateFiles } from './cli/workflow-files.ts';
import { evidenceCommand, EVIDENCE_USAGE } from './cli/evidence.ts';
import { signTokenCommand } from './cli/token.ts';
import { serveWorkers } from './cli/workers.ts';
import { loadSettings } from './config.ts';
import { updateReadme } from './docs/reference.ts';
import { startDemoUpstream } from './demo/upstream.ts';
import { hashApiKey } from './kinds/api-key.ts';
import { startSluice } from './server.ts';
import { prepareDataDir } from './sources/data-dir.ts';
import { importOpenApi, OPENAPI_USAGE } from './cli/openapi-import.ts';

const USAGE = `sluice <command>

  serve [--workers N|auto] [--demo]
                                 start the gateway (env: PORT, SLUICE_DATA, REDIS_URL, … see README);
                                 with --workers, N processes (Node cluster) share the port and the store;
                                 --demo: demo mode unless SLUICE_DEMO says otherwise (npm start passes it)
  init                           prepare the data directory (examples, demo keys, admin token) and exit
  demo-upstream                  serve only the demo upstream (orders, echo) on PORT
  validate <file…>               check workflow files; exit 1 listing every problem
  test <file…>                   run the workflow tests of files in the real engine; exit 1 when one fails
  token --sub S [--scope S…] [--partner P] [--aud A] [--exp 1h]
                                 sign a demo token the example workflows trust, with the demo key of the
                                 gateway's data directory (SLUICE_DATA, else ./data as npm start uses);
                                 only the gateway in demo mode makes that key, this command never does
  export xstate <file> [-o out]  write a workflow's XState machine config (JSON)
  schema [--out dir]             write the JSON Schemas of workflows and the error catalog
  hash-key <key>                 print the hash an api-key node stores for a key
  apply <dir>                    push the workflow files of a directory as drafts and publish them (admin API)
  rollback <id> <version>        make an earlier version active again (admin API)
  mcp                            the admin API as an MCP server on stdin/stdout, for desktop assistants:
                                 relays to the gateway's /admin/mcp with the token's role
${OPENAPI_USAGE}
${PARTNER_USAGE}
${EVIDENCE_USAGE}
                                 (admin API calls use SLUICE_ADMIN_URL and SLUICE_ADMIN_TOKEN, or SLUICE_URL and
                                 SLUICE_TOKEN; default: this machine's gateway and its token file)
  docs                           regenerate the README's reference blocks (kinds, catalog, settings)
`;

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return fail(`${file}: ${(error as Error).message}`);
  }
}

/** A path next to this file; fileURLToPath, not URL.pathname, so a checkout under "My Projects" works. */
const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { workers: { type: 'string' }, demo: { type: 'boolean' } } });
      const workers = values.workers === undefined ? 1 : values.workers === 'auto' ? availableParallelism() : Number(values.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 256) fail('usage: sluice serve [--workers N|auto] [--demo]');
      // npm start's demo mode: a default for this run (workers inherit it), never over an explicit SLUICE_DEMO
      if (values.demo && process.env.SLUICE_DEMO === undefined) process.env.SLUICE_DEMO = 'on';
      // and problem types that resolve on this gateway's portal out of the box (a deployment names its public URL instead)
      if (process.env.SLUICE_DEMO === 'on' && values.demo && process.env.SLUICE_PROBLEM_BASE === undefined && process.env.SLUICE_PORTAL !== 'off') process.env.SLUICE_PROBLEM_BASE = '/portal/problems/';
      if (workers > 1 && cluster.isPrimary) {
        await serveWorkers(workers);
        return -1;
      }
      // A worker: the first one publishes the workflows directory, every one serves what the store says.
      const index = Number(process.env.SLUICE_WORKER_INDEX ?? 0);
      const sluice = await startSluice(loadSettings(), { watchWorkflows: index === 0 });
      // A graceful stop (readiness 503, in-flight requests finish; see Sluice.close), once: a second
      // SIGTERM changes nothing, a second Ctrl-C (SIGINT) stops at once.
      let stopping: Promise<void> | undefined;
      const stop = (signal: string) => {
        if (stopping) return;
        sluice.logger.info({ signal }, `${signal}: stopping`);
        stopping = sluice.close().then(
          () => process.exit(0),
          (error: unknown) => {
            sluice.logger.error({ err: error }, 'stopping failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => (stopping ? process.exit(130) : stop('SIGINT')));
      process.on('SIGTERM', () => stop('SIGTERM'));
      if (cluster.isWorker) process.once('disconnect', () => stop('disconnect')); // the primary is gone: no orphans
      return -1; // keep running
    }
    case 'test': {
      if (rest.length === 0) fail('usage: sluice test <file…>');
      return runTestsOffline(rest);
    }
    case 'init': {
      // What several replicas sharing a data directory must not each make on their own (docker-compose runs this once).
      const created = await prepareDataDir(loadSettings());
      process.stdout.write(`data directory ${loadSettings().dataDir} ready${created ? `; admin token written to ${created}` : ''}\n`);
      return 0;
    }
    case 'demo-upstream': {
      const settings = loadSettings();
      const upstream = await startDemoUpstream({ port: settings.port, host: settings.host });
      process.stdout.write(`demo upstream listening on ${upstream.url}\n`);
      process.once('SIGTERM', () => void upstream.close().then(() => process.exit(0)));
      process.once('SIGINT', () => void upstream.close().then(() => process.exit(0)));
      return -1;
    }
    case 'validate': {
      if (rest.length === 0) fail('usage: sluice validate <file…>');
      return validateFiles(rest);
    }
    case 'token': {
      const { values } = parseArgs({
        args: rest,
        options: { sub: { type: 'string' }, scope: { type: 'string', multiple: true }, partner: { type: 'string' }, aud: { type: 'string' }, exp: { type: 'string' } },
      });
      if (!values.sub) fail('usage: sluice token --sub S [--scope S…] [--partner P] [--aud A] [--exp 1h]');
      const scopes = (values.scope ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
      const options = { sub: values.sub, scopes, ...(values.partner ? { partner: values.partner } : {}), ...(values.aud ? { audience: values.aud } : {}), ...(values.exp ? { expiresIn: values.exp } : {}) };
      return signTokenCommand(process.env, options, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
    }
    case 'export': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string', short: 'o' } } });
      const [format, file] = positionals;
      if (format !== 'xstate' || !file) fail('usage: sluice export xstate <file> [-o out.json]');
      const result = validateWorkflow(readJson(file));
      if (!result.ok) {
        for (const p of result.problems) process.stderr.write(`  - ${p.node ?? 'workflow'}${p.field ? `, ${p.field}` : ''}: ${p.message}\n`);
        return 1;
      }
      const text = `${JSON.stringify(toMachineConfig(result.graph), null, 2)}\n`;
      if (values.out) writeFileSync(values.out, text);
      else process.stdout.write(text);
      return 0;
    }
    case 'schema': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
      const dir = values.out ?? here('../shared/schema/');
      writeFileSync(join(dir, 'workflow.schema.json'), `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`);
      writeFileSync(join(dir, 'errors.schema.json'), `${JSON.stringify(catalogJsonSchema(), null, 2)}\n`);
      process.stdout.write(`wrote ${join(dir, 'workflow.schema.json')} and ${join(dir, 'errors.schema.json')}\n`);
      return 0;
    }
    case 'apply': {
      if (!rest[0]) fail('usage: sluice apply <dir>');
      const target = adminTarget(process.env, loadSettings().dataDir);
      const results = await applyDirectory(createAdminClient(target.url, target.token), rest[0]);
      for (const r of results) {
        if (r.outcome === 'refused') {
          process.stdout.write(`refused    ${r.file}${r.workflow ? ` (${r.workflow})` : ''}: ${r.message ?? ''}\n`);
          for (const p of r.problems ?? []) process.stdout.write(`  - ${p.node ? `node "${p.node}"` : 'workflow'}${p.field ? `, ${p.field}` : ''}: ${p.message}\n`);
        } else if (r.outcome === 'pending') process.stdout.write(`pending    ${r.file} (${r.workflow}): ${r.message ?? ''}\n`);
        else process.stdout.write(`${r.outcome.padEnd(10)} ${r.file} (${r.workflow}) v${r.version}\n`);
      }
      return results.some((r) => r.outcome === 'refused') ? 1 : 0;
    }
    case 'rollback': {
      const [id, version] = rest;
      if (!id || !version || !/^\d+$/.test(version)) fail('usage: sluice rollback <id> <version>');
      const target = adminTarget(process.env, loadSettings().dataDir);
      const answer = await createAdminClient(target.url, target.token).call('POST', `/workflows/${encodeURIComponent(id)}/rollback`, { version: Number(version) });
      if (answer.status >= 300) {
        process.stderr.write(`refused: ${String(answer.body.detail ?? `HTTP ${answer.status}`)}\n`);
        return 1;
      }
      process.stdout.write(`${id}: version ${version} is active (was ${String(answer.body.previous ?? 'none')})\n`);
      return 0;
    }
    case 'mcp': {
      const target = adminTarget(process.env, loadSettings().dataDir);
      await relayStdio(target);
      return 0;
    }
    case 'evidence':
      return evidenceCommand(rest, () => adminTarget(process.env, loadSettings().dataDir));
    case 'import':
      return importOpenApi(rest, () => {
        const target = adminTarget(process.env, loadSettings().dataDir);
        return createAdminClient(target.url, target.token);
      }, (line) => process.stdout.write(`${line}\n`));
    case 'partner':
    case 'product':
    case 'plan':
      return partnerCommand(command, rest, () => {
        const target = adminTarget(process.env, loadSettings().dataDir);
        return createAdminClient(target.url, target.token);
      });
    case 'docs': {
      const root = here('..');
      const changed = updateReadme(join(root, 'README.md'), join(root, 'examples', 'errors.json'));
      process.stdout.write(changed ? 'README.md updated\n' : 'README.md is up to date\n');
      return 0;
    }
    case 'hash-key': {
      if (!rest[0]) fail('usage: sluice hash-key <key>');
      process.stdout.write(`${hashApiKey(rest[0])}\n`);
      return 0;
    }
    default:
      process.stdout.write(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`sluice: ${(error as Error).message}\n`);
    // an option parseArgs does not know, or a missing value, is a usage error like the others
    process.exit(String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_') ? 2 : 1);
  },
);

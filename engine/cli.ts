#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { validateWorkflow, toMachineConfig } from '../shared/compile/index.ts';
import { workflowJsonSchema, catalogJsonSchema } from '../shared/compile/json-schema.ts';
import { errorCatalogSchema } from '../shared/schema/index.ts';
import { loadSettings } from './config.ts';
import { updateReadme } from './docs/reference.ts';
import { signDemoToken } from './demo/keys.ts';
import { hashApiKey } from './runtime/api-key.ts';
import { startSluice } from './server.ts';

const USAGE = `sluice <command>

  serve                          start the gateway (env: PORT, SLUICE_DATA, … see README)
  validate <file…>               check workflow files; exit 1 listing every problem
  token --sub S [--scope S…] [--partner P] [--aud A] [--exp 1h]
                                 sign a demo token the example workflows trust
  export xstate <file> [-o out]  write a workflow's XState machine config (JSON)
  schema [--out dir]             write the JSON Schemas of workflows and the error catalog
  hash-key <key>                 print the hash an api-key node stores for a key
  docs                           regenerate the README's reference blocks (kinds, catalog, settings)
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return fail(`${file}: ${(error as Error).message}`);
  }
}

function catalogFor(dataDir: string) {
  for (const file of [`${dataDir}/errors.json`, new URL('../examples/errors.json', import.meta.url).pathname]) {
    try {
      return errorCatalogSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      // try the next one
    }
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const sluice = await startSluice(loadSettings());
      const stop = async () => {
        await sluice.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return -1; // keep running
    }
    case 'validate': {
      if (rest.length === 0) fail('usage: sluice validate <file…>');
      const catalog = catalogFor(loadSettings().dataDir);
      const documents = rest.map((file) => ({ file, document: readJson(file) }));
      let failed = 0;
      for (const { file, document } of documents) {
        const otherRoutes = documents
          .filter((d) => d.file !== file)
          .flatMap((d) => {
            const doc = d.document as { id?: string; route?: { methods: never; path: string } };
            return doc.id && doc.route ? [{ workflow: doc.id, route: doc.route }] : [];
          });
        const result = validateWorkflow(document, { ...(catalog ? { catalog } : {}), otherRoutes });
        if (result.ok) {
          process.stdout.write(`ok      ${file}\n`);
          continue;
        }
        failed += 1;
        process.stdout.write(`refused ${file}\n`);
        for (const p of result.problems) process.stdout.write(`  - ${p.node ? `node "${p.node}"` : 'workflow'}${p.field ? `, ${p.field}` : ''}: ${p.message} [${p.code}]\n`);
      }
      return failed > 0 ? 1 : 0;
    }
    case 'token': {
      const { values } = parseArgs({
        args: rest,
        options: { sub: { type: 'string' }, scope: { type: 'string', multiple: true }, partner: { type: 'string' }, aud: { type: 'string' }, exp: { type: 'string' } },
      });
      if (!values.sub) fail('usage: sluice token --sub S [--scope S…] [--partner P] [--aud A] [--exp 1h]');
      const scopes = (values.scope ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
      const token = await signDemoToken(loadSettings().dataDir, { sub: values.sub, scopes, ...(values.partner ? { partner: values.partner } : {}), ...(values.aud ? { audience: values.aud } : {}), ...(values.exp ? { expiresIn: values.exp } : {}) });
      process.stdout.write(`${token}\n`);
      return 0;
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
      const dir = values.out ?? new URL('../shared/schema/', import.meta.url).pathname;
      writeFileSync(join(dir, 'workflow.schema.json'), `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`);
      writeFileSync(join(dir, 'errors.schema.json'), `${JSON.stringify(catalogJsonSchema(), null, 2)}\n`);
      process.stdout.write(`wrote ${join(dir, 'workflow.schema.json')} and ${join(dir, 'errors.schema.json')}\n`);
      return 0;
    }
    case 'docs': {
      const root = new URL('..', import.meta.url).pathname;
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
    process.exit(1);
  },
);

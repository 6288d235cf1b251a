import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { validateFragment, validateWorkflow, type ValidationProblem } from '../../shared/compile/index.ts';
import type { FragmentDocument, FragmentResolver } from '../../shared/schema/index.ts';
import { calloutHostsOf, createSharedResources, egressOf, expressionsOf } from '../compile/dependencies.ts';
import { loadSettings } from '../config.ts';
import { ensureDemoKeys, signDemoToken } from '../demo/keys.ts';
import { startDemoUpstream } from '../demo/upstream.ts';
import { createProblemRenderer } from '../gateway/problem.ts';
import { createMemoryRateLimitStore } from '../kinds/support/rate-limit-store.ts';
import { runWorkflowTests } from '../preview/simulate.ts';
import { catalogOfDataDir } from '../sources/error-catalog.ts';

/** Ends the command with a usage error (exit code 2). */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** A workflow file's document, or why there is none: for validate, a file that does not parse is one more refused file. */
function readDocument(file: string): { document: unknown; problem?: undefined } | { document?: undefined; problem: ValidationProblem } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { problem: { code: 'invalid_document', message: `cannot read the file: ${(error as Error).message}`, field: '(document)' } };
  }
  try {
    return { document: JSON.parse(text) };
  } catch (error) {
    return { problem: { code: 'invalid_document', message: `not JSON: ${(error as Error).message}`, field: '(document)' } };
  }
}

/** A fragment document (it declares exits and has no route) rather than a workflow. */
const isFragment = (document: unknown) => typeof document === 'object' && document !== null && 'exits' in document && !('route' in document);

/** Fragment folders read so far, by path. */
const fragmentFolders = new Map<string, FragmentResolver>();

/**
 * The fragments a workflow file's subflow nodes use, offline: the valid documents of the
 * `fragments` folder beside the file's folder (SLUICE_DATA/workflows and SLUICE_DATA/fragments,
 * examples/ alike), each as its own active version. A fragment file that is refused is said on
 * stderr and left out, so the workflows using it are refused naming their node.
 */
function fragmentsBeside(file: string): FragmentResolver {
  const folder = resolve(dirname(file), '..', 'fragments');
  let resolver = fragmentFolders.get(folder);
  if (resolver) return resolver;
  const found = new Map<string, FragmentDocument>();
  const names = existsSync(folder) ? readdirSync(folder).filter((n) => n.endsWith('.json')).sort() : [];
  for (const name of names) {
    const read = readDocument(join(folder, name));
    const result = read.problem ? { ok: false as const, problems: [read.problem] } : validateFragment(read.document);
    if (result.ok) found.set(result.fragment.id, result.fragment);
    else process.stderr.write(`fragment ${join(folder, name)} refused: ${result.problems.map((p) => `${p.node ?? ''}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('; ')}\n`);
  }
  resolver = (id, version) => {
    const document = found.get(id);
    return document && (version === undefined || version === 1) ? { version: 1, document } : undefined;
  };
  fragmentFolders.set(folder, resolver);
  return resolver;
}

/**
 * `sluice validate`: each file checked as the gateway would check it, against the data
 * directory's catalog and the other files' routes (a fragment file as a fragment); prints every
 * problem. Exit code 1 when one is refused.
 */
export function validateFiles(files: string[]): number {
  const rest = files;
  const { dataDir, documentLimits: limits } = loadSettings();
  const catalog = catalogOfDataDir(dataDir);
  const documents = rest.map((file) => ({ file, ...readDocument(file) }));
  // Routes of the documents the gateway would serve, each valid on its own: a broken document
  // serves nothing, so it clashes with nothing (and its route may not even have methods).
  const served = documents.flatMap(({ file, document }) => {
    const alone = document === undefined || isFragment(document) ? undefined : validateWorkflow(document, { ...(catalog ? { catalog } : {}), limits, fragments: fragmentsBeside(file) });
    return alone?.ok ? [{ file, workflow: alone.graph.document.id, route: alone.graph.document.route }] : [];
  });
  /** id -> the first file using it: the gateway serves one workflow per id and refuses the others */
  const firstWithId = new Map<string, string>();
  let failed = 0;
  for (const { file, document, problem } of documents) {
    const problems: ValidationProblem[] = [];
    if (problem) problems.push(problem);
    else if (isFragment(document)) {
      const result = validateFragment(document, { ...(catalog ? { catalog } : {}), limits });
      if (!result.ok) problems.push(...result.problems);
    } else {
      const otherRoutes = served.filter((d) => d.file !== file);
      const result = validateWorkflow(document, { ...(catalog ? { catalog } : {}), otherRoutes, limits, fragments: fragmentsBeside(file) });
      if (!result.ok) problems.push(...result.problems);
      const id = (document as { id?: unknown } | null)?.id;
      if (typeof id === 'string') {
        const first = firstWithId.get(id);
        if (first === undefined) firstWithId.set(id, file);
        else problems.push({ code: 'invalid_document', message: `workflow id "${id}" is also used by ${first}`, field: 'id' });
      }
    }
    if (problems.length === 0) {
      process.stdout.write(`ok      ${file}\n`);
      continue;
    }
    failed += 1;
    process.stdout.write(`refused ${file}\n`);
    for (const p of problems) process.stdout.write(`  - ${p.node ? `node "${p.node}"` : 'workflow'}${p.field ? `, ${p.field}` : ''}: ${p.message} [${p.code}]\n`);
  }
  return failed > 0 ? 1 : 0;
}

/**
 * `sluice test`: each file's workflow tests through the simulator, offline: the demo upstream
 * (started here unless SLUICE_DEMO_UPSTREAM names one) and the demo keys of the data directory
 * stand in for the gateway's, rate limits count privately, and nothing is stored.
 */
export async function runTestsOffline(files: string[]): Promise<number> {
  const settings = loadSettings();
  const catalog = catalogOfDataDir(settings.dataDir);
  if (!catalog) fail(`no error catalog in ${settings.dataDir} or examples/`);
  const env: Record<string, string | undefined> = { ...process.env };
  const demo = env.SLUICE_DEMO_UPSTREAM ? undefined : await startDemoUpstream();
  if (demo) env.SLUICE_DEMO_UPSTREAM = demo.url;
  await ensureDemoKeys(settings.dataDir);
  const shared = createSharedResources();
  const expressions = expressionsOf(settings);
  // the gateway's own policies: the environment allow-lists and egress, plus exactly the demo upstream started here
  const egress = egressOf(settings, demo?.url);
  const context = {
    deps: { env, envAllowList: settings.workflowEnv, egress, calloutHosts: calloutHostsOf(settings, demo?.url), dataDir: settings.dataDir, rateLimits: createMemoryRateLimitStore(), ...expressions, shared },
    catalog,
    problems: createProblemRenderer(catalog),
    mintToken: (claims: { sub: string; scopes?: string[] | undefined; partner?: string | undefined; claims?: Record<string, unknown> | undefined }) => signDemoToken(settings.dataDir, claims),
  };
  let tests = 0;
  let failed = 0;
  for (const file of files) {
    const read = readDocument(file);
    if (read.problem) {
      failed++;
      process.stdout.write(`FAIL  ${file}: ${read.problem.message}\n`);
      continue;
    }
    const fragments = fragmentsBeside(file);
    const verdicts = await runWorkflowTests(read.document, { ...context, fragments: async () => fragments });
    if (verdicts.length === 0) process.stdout.write(`-     ${file}: no tests\n`);
    for (const verdict of verdicts) {
      tests++;
      if (verdict.passed) {
        process.stdout.write(`ok    ${file}: ${verdict.name} (${verdict.response?.status} via ${verdict.path?.join(' → ')})\n`);
        continue;
      }
      failed++;
      process.stdout.write(`FAIL  ${file}: ${verdict.name}\n`);
      for (const f of verdict.failures) process.stdout.write(`        ${f.what}: expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.actual)}\n`);
    }
  }
  process.stdout.write(`\n${tests} test(s), ${failed} failed\n`);
  await demo?.close();
  await expressions.expressionPool.close();
  await shared.close();
  return failed > 0 ? 1 : 0;
}


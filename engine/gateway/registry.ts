import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { validateWorkflow, type ValidationProblem } from '../../shared/compile/index.ts';
import type { ErrorCatalog } from '../../shared/schema/index.ts';
import { compileWorkflow, WorkflowRefused, type CompileDependencies, type CompiledWorkflow } from './compile-workflow.ts';

/** A source document handed to the registry: where it came from and its JSON text. */
export interface WorkflowSource {
  /** Where the document came from, for log lines (a file name). */
  origin: string;
  text: string;
}

/** What happened to one source in a load. */
export type LoadReport =
  | { origin: string; workflow: string; status: 'activated'; version: number }
  | { origin: string; workflow: string; status: 'unchanged'; version: number }
  | { origin: string; workflow: string | undefined; status: 'refused'; problems: ValidationProblem[] };

export interface WorkflowRegistry {
  /** Replaces the set of served workflows with these sources; a refused source keeps its last good version. */
  load(sources: WorkflowSource[]): Promise<LoadReport[]>;
  /** The workflows being served, by id. */
  readonly active: ReadonlyMap<string, CompiledWorkflow>;
}

/**
 * Validates, compiles and activates workflow documents. A document that fails is refused with
 * every problem logged, and the version already serving its route keeps serving.
 */
export function createWorkflowRegistry(options: {
  deps: CompileDependencies;
  catalog: () => ErrorCatalog;
  logger: Logger;
  activate: (workflows: CompiledWorkflow[]) => void;
}): WorkflowRegistry {
  const active = new Map<string, CompiledWorkflow>();
  const hashes = new Map<string, string>();
  /** The workflow each origin last served, so a file that stops parsing keeps its last good version. */
  const originOf = new Map<string, string>();
  const { logger } = options;
  let loading: Promise<unknown> = Promise.resolve();

  async function loadNow(sources: WorkflowSource[]): Promise<LoadReport[]> {
    const reports: LoadReport[] = [];
    const next = new Map<string, CompiledWorkflow>();
    const parsed: Array<{ origin: string; document: unknown; id: string | undefined; hash: string }> = [];
    const seen = new Set<string>();
    for (const source of sources) {
      let document: unknown;
      try {
        document = JSON.parse(source.text);
      } catch (error) {
        const previous = originOf.get(source.origin);
        reports.push({ origin: source.origin, workflow: previous, status: 'refused', problems: [{ code: 'invalid_document', message: `not JSON: ${(error as Error).message}`, field: '(document)' }] });
        if (previous !== undefined && active.has(previous)) {
          seen.add(previous);
          next.set(previous, active.get(previous)!);
        }
        continue;
      }
      const rawId = (document as { id?: unknown } | null)?.id;
      const id = typeof rawId === 'string' ? rawId : originOf.get(source.origin);
      if (id !== undefined && seen.has(id)) {
        reports.push({ origin: source.origin, workflow: id, status: 'refused', problems: [{ code: 'invalid_document', message: `workflow id "${id}" is already used by another file`, field: 'id' }] });
        continue;
      }
      if (id !== undefined) seen.add(id);
      parsed.push({ origin: source.origin, document, id, hash: createHash('sha256').update(source.text).digest('hex') });
    }

    for (const [index, { origin, document, id, hash }] of parsed.entries()) {
      const current = id === undefined ? undefined : active.get(id);
      if (current && hashes.get(current.id) === hash) {
        next.set(current.id, current);
        reports.push({ origin, workflow: current.id, status: 'unchanged', version: current.version });
        continue;
      }
      // Routes it must not clash with: those accepted in this load, and those still serving for files not yet read.
      const later = parsed.slice(index + 1).flatMap((p) => (p.id !== undefined && active.has(p.id) ? [active.get(p.id)!] : []));
      const otherRoutes = [...next.values(), ...later].map((w) => ({ workflow: w.id, route: w.graph.document.route }));
      const result = validateWorkflow(document, { catalog: options.catalog(), otherRoutes });
      if (!result.ok) {
        reports.push({ origin, workflow: id, status: 'refused', problems: result.problems });
        if (current) next.set(current.id, current);
        continue;
      }
      try {
        const compiled = await compileWorkflow(result.graph, (current?.version ?? 0) + 1, options.deps);
        next.set(compiled.id, compiled);
        hashes.set(compiled.id, hash);
        originOf.set(origin, compiled.id);
        reports.push({ origin, workflow: compiled.id, status: 'activated', version: compiled.version });
      } catch (error) {
        const problems = error instanceof WorkflowRefused ? error.problems : [{ code: 'invalid_config' as const, message: (error as Error).message }];
        reports.push({ origin, workflow: id, status: 'refused', problems });
        if (current) next.set(current.id, current);
      }
    }
    active.clear();
    for (const [id, workflow] of next) active.set(id, workflow);
    for (const id of hashes.keys()) if (!active.has(id)) hashes.delete(id);
    options.activate([...active.values()]);
    for (const report of reports) {
      if (report.status === 'activated') logger.info({ workflow: report.workflow, version: report.version, origin: report.origin }, 'workflow activated');
      else if (report.status === 'refused')
        logger.error({ workflow: report.workflow, origin: report.origin, problems: report.problems }, `workflow refused: ${report.problems.map((p) => `${p.node ? `node ${p.node}` : 'workflow'}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('; ')}`);
    }
    return reports;
  }

  return {
    active,
    load(sources) {
      const run = loading.then(() => loadNow(sources));
      loading = run.catch(() => undefined);
      return run;
    },
  };
}

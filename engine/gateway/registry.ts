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
  /** What workflows are compiled with (env, data dir, rate-limit store): preview and tests compile drafts alike. */
  readonly deps: CompileDependencies;
}

/** One source as read in a load: its document, or why it has none. */
interface Entry {
  origin: string;
  hash: string;
  /** The parsed document; undefined when the text is not JSON. */
  document: unknown;
  notJson: string | undefined;
  /** The id it claims: its own, or for a document without one, the id it served last. */
  id: string | undefined;
}

const describeProblems = (problems: ValidationProblem[]) =>
  problems.map((p) => `${p.node ? `node ${p.node}` : 'workflow'}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('; ');

/**
 * Validates, compiles and activates workflow documents. A document that fails is refused with
 * every problem logged (once per content), and the last good version of its source keeps
 * serving. An id or a route belongs to the source that serves it: a newcomer claiming it is
 * refused, whatever order the sources come in.
 */
export function createWorkflowRegistry(options: {
  deps: CompileDependencies;
  catalog: () => ErrorCatalog;
  logger: Logger;
  activate: (workflows: CompiledWorkflow[]) => void;
}): WorkflowRegistry {
  const active = new Map<string, CompiledWorkflow>();
  /** id -> the source serving it, and the hash of the text it was compiled from */
  const servedFrom = new Map<string, { origin: string; hash: string }>();
  /** origin -> what its last refusal said, so a source that stays broken is logged once */
  const refusedAs = new Map<string, string>();
  const { logger } = options;
  let loading: Promise<unknown> = Promise.resolve();

  /** The id a source serves now, if any. */
  const servingOf = (origin: string): string | undefined => {
    for (const [id, from] of servedFrom) if (from.origin === origin && active.has(id)) return id;
    return undefined;
  };

  async function loadNow(sources: WorkflowSource[]): Promise<LoadReport[]> {
    const reports: LoadReport[] = [];
    const next = new Map<string, CompiledWorkflow>();
    const nextFrom = new Map<string, { origin: string; hash: string }>();

    const entries: Entry[] = sources.map((source) => {
      const hash = createHash('sha256').update(source.text).digest('hex');
      try {
        const document: unknown = JSON.parse(source.text);
        const rawId = (document as { id?: unknown } | null)?.id;
        return { origin: source.origin, hash, document, notJson: undefined, id: typeof rawId === 'string' ? rawId : servingOf(source.origin) };
      } catch (error) {
        return { origin: source.origin, hash, document: undefined, notJson: (error as Error).message, id: servingOf(source.origin) };
      }
    });

    // Who may serve each id: the source serving it now, else the first source naming it.
    const claimant = new Map<string, string>();
    for (const e of entries) if (e.id !== undefined && servedFrom.get(e.id)?.origin === e.origin && active.has(e.id)) claimant.set(e.id, e.origin);
    for (const e of entries) if (e.id !== undefined && !claimant.has(e.id)) claimant.set(e.id, e.origin);

    /** A refused source keeps serving its last good version, unless another source now owns that id. */
    const keepLastGood = (origin: string) => {
      const id = servingOf(origin);
      if (id === undefined || next.has(id) || (claimant.get(id) ?? origin) !== origin) return;
      next.set(id, active.get(id)!);
      nextFrom.set(id, servedFrom.get(id)!);
    };
    const refuse = (e: Entry, problems: ValidationProblem[]) => {
      reports.push({ origin: e.origin, workflow: e.id, status: 'refused', problems });
      keepLastGood(e.origin);
    };

    for (const [index, e] of entries.entries()) {
      if (e.notJson !== undefined) {
        refuse(e, [{ code: 'invalid_document', message: `not JSON: ${e.notJson}`, field: '(document)' }]);
        continue;
      }
      const owner = e.id === undefined ? undefined : claimant.get(e.id);
      if (owner !== undefined && owner !== e.origin) {
        const serving = servedFrom.get(e.id!)?.origin === owner && active.has(e.id!);
        refuse(e, [{ code: 'invalid_document', message: `workflow id "${e.id}" is already ${serving ? 'served from' : 'used by'} ${owner}`, field: 'id' }]);
        continue;
      }
      const current = e.id === undefined ? undefined : active.get(e.id);
      const from = e.id === undefined ? undefined : servedFrom.get(e.id);
      if (current && from?.origin === e.origin && from.hash === e.hash) {
        next.set(current.id, current);
        nextFrom.set(current.id, from);
        reports.push({ origin: e.origin, workflow: current.id, status: 'unchanged', version: current.version });
        continue;
      }
      // Routes it must not clash with: those accepted in this load, and those still served by sources not read yet.
      const later = entries.slice(index + 1).flatMap((other) => {
        const id = servingOf(other.origin);
        return id !== undefined && id !== e.id && !next.has(id) ? [active.get(id)!] : [];
      });
      const otherRoutes = [...next.values(), ...later].map((w) => ({ workflow: w.id, route: w.graph.document.route }));
      const result = validateWorkflow(e.document, { catalog: options.catalog(), otherRoutes });
      if (!result.ok) {
        refuse(e, result.problems);
        continue;
      }
      try {
        const compiled = await compileWorkflow(result.graph, (current?.version ?? 0) + 1, options.deps);
        next.set(compiled.id, compiled);
        nextFrom.set(compiled.id, { origin: e.origin, hash: e.hash });
        reports.push({ origin: e.origin, workflow: compiled.id, status: 'activated', version: compiled.version });
      } catch (error) {
        refuse(e, error instanceof WorkflowRefused ? error.problems : [{ code: 'invalid_config', message: (error as Error).message }]);
      }
    }

    active.clear();
    for (const [id, workflow] of next) active.set(id, workflow);
    servedFrom.clear();
    for (const [id, from] of nextFrom) servedFrom.set(id, from);
    options.activate([...active.values()]);

    const refusedNow = new Set<string>();
    for (const report of reports) {
      if (report.status === 'activated') logger.info({ workflow: report.workflow, version: report.version, origin: report.origin }, 'workflow activated');
      else if (report.status === 'refused') {
        refusedNow.add(report.origin);
        const entry = entries.find((e) => e.origin === report.origin)!;
        const said = `${entry.hash}:${describeProblems(report.problems)}`;
        if (refusedAs.get(report.origin) === said) continue; // refused for the same reasons as last time: logged then
        refusedAs.set(report.origin, said);
        logger.error({ workflow: report.workflow, origin: report.origin, problems: report.problems }, `workflow refused: ${describeProblems(report.problems)}`);
      }
    }
    for (const origin of refusedAs.keys()) if (!refusedNow.has(origin)) refusedAs.delete(origin);
    return reports;
  }

  return {
    active,
    deps: options.deps,
    load(sources) {
      const run = loading.then(() => loadNow(sources));
      loading = run.catch(() => undefined);
      return run;
    },
  };
}

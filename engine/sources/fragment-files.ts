import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { documentHash } from '../store/audit.ts';
import { fragmentOf } from '../compile/fragments.ts';
import type { Lifecycle } from '../admin/commands/workflows.ts';
import { AdminError } from '../admin/errors.ts';
import { describeProblems } from '../compile/registry.ts';
import type { Store } from '../store/types.ts';
import type { WorkflowDirectory } from './workflow-directory.ts';

/**
 * The fragments directory (SLUICE_DATA/fragments) as a GitOps source, read before the workflows
 * directory so the workflows find the fragments they use: a file that appears or changes is
 * published (actor `file:fragments/<name>`, checked against every workflow following it like any
 * fragment publish); a refused file is logged once per content and the active version stays. A
 * file whose document already is a version is not published again (a rollback survives a
 * restart until the file changes). A deleted file changes nothing: workflows may still use the fragment.
 */
export function createFragmentFileSync(options: { directory: WorkflowDirectory; lifecycle: Lifecycle; store: Store; logger: Logger }) {
  const { directory, lifecycle, store, logger } = options;
  /** file -> hash of the text last applied or refused */
  const seen = new Map<string, string>();

  return {
    async sync(): Promise<void> {
      for (const read of await directory.read()) {
        const origin = `fragments/${read.file}`;
        if ('tooLarge' in read) {
          logger.error({ origin }, `fragment file refused: ${read.tooLarge.bytes} bytes is too large`);
          continue;
        }
        const hash = createHash('sha256').update(read.text).digest('hex');
        if (seen.get(origin) === hash) continue;
        seen.set(origin, hash);
        let document: unknown;
        try {
          document = JSON.parse(read.text);
        } catch (error) {
          logger.error({ origin }, `fragment file refused: not JSON: ${(error as Error).message}`);
          continue;
        }
        const id = (document as { id?: unknown } | null)?.id;
        const record = typeof id === 'string' ? fragmentOf(await store.state(), id) : undefined;
        if (record?.active !== undefined && record.versions.some((v) => v.hash === documentHash(document))) continue;
        try {
          const published = await lifecycle.fragments.apply({ name: `file:${origin}`, role: 'publisher' }, document);
          logger.info({ fragment: id, version: published.version, origin }, 'fragment published from its file');
        } catch (error) {
          if (!(error instanceof AdminError)) throw error;
          logger.error({ fragment: id, origin, problems: error.problems }, `fragment file refused: ${error.problems ? describeProblems(error.problems) : error.message}`);
        }
      }
    },
  };
}

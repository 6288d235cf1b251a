/** What the workflow and fragment lifecycles are made with, and who acts on them. */
import type { ValidationProblem } from '../../../shared/compile/index.ts';
import type { DocumentLimits, FragmentResolver } from '../../../shared/schema/index.ts';
import type { FragmentLibrary } from '../../compile/fragments.ts';
import type { ValidatedGraphs } from '../../compile/validated-graphs.ts';
import type { StoredCatalogs } from '../../store/catalogs.ts';
import type { Store } from '../../store/types.ts';

/** Who is acting: the token's name and role, as the audit log records them. */
export interface Actor {
  name: string;
  role: string;
}

export interface LifecycleOptions {
  store: Store;
  /** The stored catalogs by hash, shared with the registry; one of its own when absent. */
  catalogs?: StoredCatalogs;
  /** Publishing is refused when the publisher last edited the draft (SLUICE_FOUR_EYES). */
  fourEyes: boolean;
  /** A publish that removes or changes answers of the error contract waits for a second publisher (SLUICE_CONTRACT_GATE; on unless false). */
  contractGate?: boolean;
  /** Prepares a document as the gateway would (env vars, key files), naming what fails. */
  prepare(document: unknown): Promise<ValidationProblem[]>;
  /** Runs a document's workflow tests (sample requests with expected answers) with these fragments; a failing one blocks its publication. */
  runTests?(document: unknown, fragments: FragmentResolver): Promise<Array<{ name: string; passed: boolean; failures: Array<{ what: string; expected: unknown; actual: unknown }> }>>;
  /** Size bounds of a document to serve (SLUICE_MAX_*); DEFAULT_DOCUMENT_LIMITS when absent. */
  limits?: DocumentLimits;
  /** The longest one slice of validation runs before requests get their turn. */
  sliceMs?: number;
  /** The published fragments subflow nodes are inlined from; one of its own when absent. */
  fragments?: FragmentLibrary;
  /** Where a check that passed leaves its graph for the registry (engine/compile/validated-graphs.ts): the version is not validated again to be served. */
  validated?: ValidatedGraphs;
  now?: () => Date;
}


import { z } from 'zod';

/** The marks that decide how a version is served. */
interface VersionMarks {
  deprecated?: unknown;
  retired?: unknown;
}

/** How a version is served when its route serves it: a retired mark wins over a deprecated one. */
export const servedStateSchema = z.enum(['active', 'deprecated', 'retired']);
export type ServedState = z.infer<typeof servedStateSchema>;

export function servedState(version: VersionMarks): ServedState {
  return version.retired ? 'retired' : version.deprecated ? 'deprecated' : 'active';
}

/** How a version stands among its workflow's versions: an unmarked one that another version replaced is inactive. */
export function versionState(version: VersionMarks, serving: boolean): ServedState | 'inactive' {
  const state = servedState(version);
  return state === 'active' && !serving ? 'inactive' : state;
}

/** How a workflow stands: the served state of its active version, or `draft` while nothing is published. */
export const workflowStateSchema = z.enum(['active', 'deprecated', 'retired', 'draft']);

export function workflowState(activeVersion: VersionMarks | undefined): z.infer<typeof workflowStateSchema> {
  return activeVersion === undefined ? 'draft' : servedState(activeVersion);
}

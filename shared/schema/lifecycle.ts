/**
 * The lifecycle records of a workflow, as the store keeps them and the admin API returns them:
 * one definition for the engine and the editor.
 */

/** The longest publish note a version keeps. */
export const MAX_PUBLISH_NOTE = 1000;

/** A version's lifecycle marks. The active pointer says which version the route serves. */
export interface VersionRecord {
  version: number;
  /** Content hash of the immutable document. */
  hash: string;
  publishedAt: string;
  publishedBy: string;
  /** What the publisher said the version is for (at most MAX_PUBLISH_NOTE characters); absent in stores written before notes. */
  note?: string;
  /** Deprecated versions are still served, with Deprecation and Sunset headers. */
  deprecated?: { at: string; sunset?: string };
  /** A retired version's route answers 410 while it is the active one. */
  retired?: { at: string };
}

export interface DraftRecord {
  hash: string;
  /** Increments on every save; a save names the revision it was based on (409 when stale). */
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

/**
 * Which requests of a canary go to the candidate: those whose key hashes under the share. The same
 * key lands on the same side on every replica (the hash of the canary's id and the key); `random`
 * (or a request without the key) draws per request.
 */
export type CanaryStickiness = { by: 'partner' | 'subject' | 'random' } | { by: 'header'; header: string };

/** A version serving a share of a workflow's requests beside the active one, until promoted or aborted. */
export interface CanaryRecord {
  /** Names this canary: hashed with each key, so a new canary splits afresh. */
  id: string;
  /** The candidate version. */
  version: number;
  /** Percent of requests (1-100) the candidate serves. */
  share: number;
  sticky: CanaryStickiness;
  /** Aborted by the gateway (as `system`) when the candidate's error/problem rate exceeds the active's by `margin` points, both sides having served `minSample` requests. */
  abort: { margin: number; minSample: number };
  startedAt: string;
  startedBy: string;
}

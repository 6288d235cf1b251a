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

/**
 * Evidence: one record per request, kept for weeks, asked after the fact ("partner globex, last
 * Tuesday 10:00-11:00"). The record's field names and join keys are the request log's and the
 * OTLP span's (traceId, partner, product, workflow, version, outcome); it holds no credential,
 * token or body: the subject as the log hashes it, a key's public id at most.
 */

import type { EvidenceDimension, EvidenceRecord } from '../../shared/admin/index.ts';

export type { EvidenceDimension, EvidenceRecord };

/** Which records: a time range (ms since the epoch, `from` inclusive, `to` exclusive) and exact values. */
export interface EvidenceFilter {
  from: number;
  to: number;
  partner?: string | undefined;
  product?: string | undefined;
  workflow?: string | undefined;
  version?: number | undefined;
  outcome?: string | undefined;
  status?: number | undefined;
  problem?: string | undefined;
  replica?: string | undefined;
  credential?: string | undefined;
  traceId?: string | undefined;
}

/** A page of records, newest first: `before` continues after the last record of the previous page. */
export interface EvidencePage extends EvidenceFilter {
  limit: number;
  before?: { time: number; traceId: string } | undefined;
}

/** Counts of the filtered records by time bucket and by the chosen dimensions. */
export interface EvidenceAggregation extends EvidenceFilter {
  by: readonly EvidenceDimension[];
  /** The width of a time bucket in ms; without it, one bucket for the whole range. */
  bucketMs?: number | undefined;
}

/** One group of an aggregation. */
export interface EvidenceGroup {
  /** The bucket's start (ms since the epoch); null without buckets. */
  bucket: number | null;
  /** The value of each dimension grouped by, as text (null when the record has none). */
  keys: Partial<Record<EvidenceDimension, string | null>>;
  count: number;
  /** Mean and longest time to answer, in ms. */
  meanMs: number;
  maxMs: number;
}

/**
 * Where evidence is kept: DuckDB in the data directory, or ClickHouse shared by every replica.
 * Both pass test/engine/evidence/store-contract.ts.
 */
export interface EvidenceStore {
  readonly name: 'duckdb' | 'clickhouse';
  insert(records: readonly EvidenceRecord[]): Promise<void>;
  /** Records matching the filter, newest first (ties by trace id, descending). */
  find(page: EvidencePage): Promise<EvidenceRecord[]>;
  aggregate(query: EvidenceAggregation): Promise<EvidenceGroup[]>;
  /** Deletes records older than `olderThan`, then the oldest until the store is at most `maxBytes`; says how many went. */
  prune(limits: { olderThan: number; maxBytes: number }): Promise<{ deleted: number }>;
  /** What the store holds now: records and bytes on disk. */
  size(): Promise<{ records: number; bytes: number }>;
  close(): Promise<void>;
}

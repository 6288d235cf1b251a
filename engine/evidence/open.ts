/** Opens evidence as the settings say: the embedded DuckDB file of this process, or ClickHouse shared by every replica. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Settings } from '../config.ts';
import type { PartnerDirectory } from '../kinds/support/partner-directory.ts';
import { openClickHouseEvidence } from './clickhouse-store.ts';
import { openDuckDbEvidence } from './duckdb-store.ts';
import { createEvidenceRecorder, type EvidenceRecorder } from './recorder.ts';
import type { EvidenceStore } from './types.ts';

/** The embedded store's file in the data directory. */
const EVIDENCE_FILE = 'evidence.duckdb';

/** CLICKHOUSE_URL as the client takes it: the server (with its credentials) and the database its path names. */
function clickHouseTarget(text: string): { url: string; database: string } {
  const url = new URL(text);
  const database = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, '')) || 'default';
  url.pathname = '/';
  return { url: url.href, database };
}

export interface Evidence {
  store: EvidenceStore;
  recorder: EvidenceRecorder;
  close(): Promise<void>;
}

/**
 * Evidence for this process, or undefined when it is off. A worker of `sluice serve --workers N`
 * cannot share the embedded file (DuckDB has one writing process), so without ClickHouse the
 * workers keep none and say so.
 */
export async function openEvidence(settings: Settings, options: { replica: string; directory(): PartnerDirectory; logger: Logger }): Promise<Evidence | undefined> {
  const config = settings.evidence;
  if (config === undefined) return undefined;
  if (process.env.SLUICE_WORKER_INDEX !== undefined && config.clickhouseUrl === undefined) {
    options.logger.warn({ setting: 'CLICKHOUSE_URL' }, 'evidence is off in `serve --workers`: the embedded store belongs to one process; set CLICKHOUSE_URL to keep evidence from every worker');
    return undefined;
  }
  let store: EvidenceStore;
  try {
    store = config.clickhouseUrl === undefined ? await openDuckDbEvidence(join(settings.dataDir, EVIDENCE_FILE)) : await openClickHouseEvidence(clickHouseTarget(config.clickhouseUrl));
  } catch (error) {
    // evidence never stops a gateway from serving: another process holding the embedded file, an unreachable ClickHouse
    const message = (error as Error).message.replace(/\/\/[^@/]*@/g, '//');
    options.logger.warn({ setting: config.clickhouseUrl === undefined ? 'SLUICE_DATA' : 'CLICKHOUSE_URL', reason: message }, 'evidence is off in this process: its store cannot be opened (processes sharing a data directory keep evidence together through CLICKHOUSE_URL)');
    return undefined;
  }
  const recorder = createEvidenceRecorder({ store, replica: options.replica, directory: options.directory, retentionMs: config.retentionMs, maxBytes: config.maxBytes, logger: options.logger });
  return {
    store,
    recorder,
    async close() {
      await recorder.close();
      await store.close();
    },
  };
}

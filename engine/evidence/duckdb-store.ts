/**
 * Evidence in an embedded DuckDB file (SLUICE_DATA/evidence.duckdb): the default, no server.
 * DuckDB runs queries on its own threads; a batch is appended in slices so the event loop is
 * never held for long.
 */
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { aggregateSql, COLUMNS, groupOf, pageSql, recordOf } from './sql.ts';
import type { EvidenceAggregation, EvidenceGroup, EvidencePage, EvidenceRecord, EvidenceStore } from './types.ts';

/** Rows appended before the event loop gets a turn. */
const APPEND_SLICE = 500;

/** A value bound to a query: whole numbers of the time column are BIGINTs (so the zone maps prune), others as they are. */
const bind = (value: string | number): DuckDBValue => (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 31 ? BigInt(value) : value);

function append(appender: DuckDBAppender, record: EvidenceRecord): void {
  for (const [, field, type] of COLUMNS) {
    const value = record[field];
    if (value === null || value === undefined) appender.appendNull();
    else if (field === 'nodes') appender.appendVarchar((value as string[]).join(' '));
    else if (type === 'BIGINT') appender.appendBigInt(BigInt(Math.round(value as number)));
    else if (type === 'INTEGER') appender.appendInteger(value as number);
    else if (type === 'DOUBLE') appender.appendDouble(value as number);
    else appender.appendVarchar(value as string);
  }
  appender.endRow();
}

/** Opens (creating when new) the evidence database at `file` (':memory:' for none). */
export async function openDuckDbEvidence(file: string): Promise<EvidenceStore> {
  const instance = await DuckDBInstance.create(file);
  const connection: DuckDBConnection = await instance.connect();
  await connection.run(`CREATE TABLE IF NOT EXISTS evidence (${COLUMNS.map(([column, , type]) => `${column} ${type}${column === 'time' || column === 'trace_id' ? ' NOT NULL' : ''}`).join(', ')})`);
  /** One write at a time: appends and deletes do not interleave. */
  let writing: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = writing.then(work, work);
    writing = next.catch(() => undefined);
    return next;
  };
  const rows = async (sql: string, values: DuckDBValue[]) => (await connection.runAndReadAll(sql, values)).getRowObjects() as Record<string, unknown>[];
  const positional = () => '?';

  async function bytes(): Promise<number> {
    if (file === ':memory:') return 0;
    const [row] = await rows('SELECT used_blocks * block_size AS bytes FROM pragma_database_size()', []);
    return Number(row?.bytes ?? 0);
  }

  return {
    name: 'duckdb',
    insert: (records) =>
      serial(async () => {
        for (let i = 0; i < records.length; i += APPEND_SLICE) {
          const appender = await connection.createAppender('evidence');
          for (const record of records.slice(i, i + APPEND_SLICE)) append(appender, record);
          appender.closeSync();
          if (i + APPEND_SLICE < records.length) await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    async find(page: EvidencePage) {
      const { sql, conditions } = pageSql(page, positional);
      return (await rows(sql, conditions.map((c) => bind(c.value)))).map(recordOf);
    },
    async aggregate(query: EvidenceAggregation): Promise<EvidenceGroup[]> {
      const { sql, conditions } = aggregateSql(query, positional, (bucketMs) => `(time // ${bucketMs}) * ${bucketMs}`);
      return (await rows(sql, conditions.map((c) => bind(c.value)))).map((row) => groupOf(row, query.by));
    },
    prune: ({ olderThan, maxBytes }) =>
      serial(async () => {
        const count = async () => Number((await rows('SELECT count(*) AS n FROM evidence', []))[0]!.n);
        const before = await count();
        await connection.run('DELETE FROM evidence WHERE time < ?', [BigInt(olderThan)]);
        await connection.run('CHECKPOINT');
        // over the cap: the oldest tenth at a time, until under it (or nothing is left)
        for (let round = 0; round < 20 && (await bytes()) > maxBytes; round++) {
          const left = await count();
          if (left === 0) break;
          const [edge] = await rows('SELECT quantile_disc(time, 0.1) AS t FROM evidence', []);
          await connection.run('DELETE FROM evidence WHERE time <= ?', [BigInt(Number(edge!.t))]);
          await connection.run('CHECKPOINT');
        }
        return { deleted: before - (await count()) };
      }),
    async size() {
      const [row] = await rows('SELECT count(*) AS n FROM evidence', []);
      return { records: Number(row!.n), bytes: await bytes() };
    },
    close: () =>
      serial(async () => {
        connection.closeSync();
        instance.closeSync();
      }),
  };
}

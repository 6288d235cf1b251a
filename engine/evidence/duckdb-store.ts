/**
 * Evidence in an embedded DuckDB file (SLUICE_DATA/evidence.duckdb): the default, no server.
 *
 * A batch is not inserted when it arrives: it is appended as CSV lines to a spool file beside the
 * database (about 1 µs of the event loop per record), and DuckDB reads the spool in (about 4 µs of
 * CPU per record, on one of its threads) when the process has idle time, when the spool holds
 * SPOOL_LIMIT records, before any query (a query sees every record written), and at close. A
 * gateway saturated for a while so pays for its evidence afterwards, not request by request; a
 * spool left by a crash is copied in at the next start.
 */
import { readdirSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { aggregateSql, COLUMNS, csvLineOf, groupOf, pageSql, recordOf } from './sql.ts';
import type { EvidenceAggregation, EvidenceGroup, EvidencePage, EvidenceStore } from './types.ts';

/** Records turned into spool lines before the event loop gets a turn. */
const ENCODE_SLICE = 500;
/** The most memory DuckDB may hold for evidence (its buffer pool; queries spill to disk past it). */
const MEMORY_LIMIT = '256MB';
/** Spooled records past which the spool is copied in whatever the load. */
const SPOOL_LIMIT = 200_000;
/** How often idleness is judged, and the event-loop use under which the process counts as idle. */
const IDLE_CHECK_MS = 1_000;
const IDLE_BELOW = 0.5;

/** A value bound to a query: whole numbers of the time column are BIGINTs (so the zone maps prune), others as they are. */
const bind = (value: string | number): DuckDBValue => (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 31 ? BigInt(value) : value);

/** The table's columns as read_csv and read_json take them, made once. */
const SPOOL_COLUMNS = `{${COLUMNS.map(([column, , type]) => `'${column}': '${type}'`).join(', ')}}`;
const quoted = (path: string) => `'${path.replaceAll("'", "''")}'`;
/** What is left of a line that does not read (read_json makes it a row of nulls) is not a record. */
const WHOLE = 'WHERE time IS NOT NULL AND trace_id IS NOT NULL';
/**
 * How DuckDB reads a spool file: CSV lines of exactly the table's columns (csvLineOf), an empty
 * field null and a quoted one text, even an empty one. A spool of JSON lines (`.ndjson`) is what
 * a version before Dec 2026 left: it is read as before. A line that does not read (the last one
 * of a spool a crash cut short) is skipped: without that, the spool could never be read in, and
 * every later start would find the store unopenable and run without evidence.
 */
const READ_SPOOL = (path: string) =>
  path.endsWith('.ndjson')
    ? `INSERT INTO evidence SELECT * FROM read_json(${quoted(path)}, format = 'newline_delimited', columns = ${SPOOL_COLUMNS}, ignore_errors = true) ${WHOLE}`
    : `INSERT INTO evidence SELECT * FROM read_csv(${quoted(path)}, header = false, columns = ${SPOOL_COLUMNS}, delim = ',', quote = '"', escape = '"', new_line = '\\n', auto_detect = false, allow_quoted_nulls = false, ignore_errors = true) ${WHOLE}`;
/** Spool files' endings: what this version writes, and what an older one left. */
const SPOOL_ENDINGS = ['.csv', '.ndjson'];

/** Opens (creating when new) the evidence database at `file`, copying in any spool a stopped process left beside it. */
export async function openDuckDbEvidence(file: string): Promise<EvidenceStore> {
  const instance = await DuckDBInstance.create(file);
  const connection: DuckDBConnection = await instance.connect();
  // DuckDB takes most of the machine's memory by default: the gateway's evidence gets a bounded share
  await connection.run(`SET memory_limit = '${MEMORY_LIMIT}'`);
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

  // The spool: files beside the database, `<name>.spool-<n>.csv`, appended to and copied in turn.
  const dir = dirname(file);
  const prefix = `${basename(file)}.spool-`;
  const numberOf = (name: string) => Number(name.slice(prefix.length, name.lastIndexOf('.')));
  const spoolFiles = () => readdirSync(dir).filter((f) => f.startsWith(prefix) && SPOOL_ENDINGS.some((ending) => f.endsWith(ending))).sort((x, y) => numberOf(x) - numberOf(y));
  const leftover = spoolFiles();
  let spoolSeq = Math.max(0, ...leftover.map(numberOf)) + 1;
  const spoolFileOf = (seq: number) => join(dir, `${prefix}${seq}.csv`);
  let spoolFile = spoolFileOf(spoolSeq);
  /** Records appended since the last copy; a spool a stopped process left counts as some. */
  let spooled = leftover.length;
  /** The spool file appended to, open until it is copied in (an open and a close per batch cost as much as encoding it). */
  let spoolHandle: FileHandle | undefined;
  const closeSpool = async () => {
    const handle = spoolHandle;
    spoolHandle = undefined;
    await handle?.close();
  };
  /** Copies every spool file in; appends from now on go to the next file. */
  const ingest = () =>
    serial(async () => {
      if (spooled === 0) return;
      spooled = 0;
      await closeSpool();
      spoolFile = spoolFileOf(++spoolSeq);
      // One thread reads the spool in: it is background work, and DuckDB's parallel reader cost
      // twice the CPU per record on a gateway pinned to one core (~9 against ~4 µs). Queries get
      // every thread back.
      await connection.run('SET threads = 1');
      try {
        for (const name of spoolFiles()) {
          const path = join(dir, name);
          if (path === spoolFile) continue;
          await connection.run(READ_SPOOL(path));
          rmSync(path, { force: true });
        }
      } finally {
        await connection.run('RESET threads');
      }
    });
  await ingest();
  /** Copies the spool in when the process has had idle time since the last look. */
  let use = performance.eventLoopUtilization();
  const idleCheck = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, use).utilization;
    use = now;
    if (spooled > 0 && busy < IDLE_BELOW) void ingest().catch(() => undefined);
  }, IDLE_CHECK_MS);
  idleCheck.unref();

  async function bytes(): Promise<number> {
    const [row] = await rows('SELECT used_blocks * block_size AS bytes FROM pragma_database_size()', []);
    return Number(row?.bytes ?? 0);
  }

  return {
    name: 'duckdb',
    async insert(records) {
      if (records.length === 0) return;
      let text = '';
      for (let i = 0; i < records.length; i++) {
        if (i > 0 && i % ENCODE_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
        text += csvLineOf(records[i]!);
      }
      await serial(async () => {
        spoolHandle ??= await open(spoolFile, 'a');
        await spoolHandle.appendFile(text);
      });
      spooled += records.length;
      if (spooled >= SPOOL_LIMIT) await ingest();
    },
    async find(page: EvidencePage) {
      await ingest();
      const { sql, conditions } = pageSql(page, positional);
      return (await rows(sql, conditions.map((c) => bind(c.value)))).map(recordOf);
    },
    async aggregate(query: EvidenceAggregation): Promise<EvidenceGroup[]> {
      await ingest();
      const { sql, conditions } = aggregateSql(query, positional, (bucketMs) => `(time // ${bucketMs}) * ${bucketMs}`);
      return (await rows(sql, conditions.map((c) => bind(c.value)))).map((row) => groupOf(row, query.by));
    },
    prune: async ({ olderThan, maxBytes }) => {
      await ingest();
      return serial(async () => {
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
      });
    },
    async size() {
      await ingest();
      const [row] = await rows('SELECT count(*) AS n FROM evidence', []);
      return { records: Number(row!.n), bytes: await bytes() };
    },
    close: async () => {
      clearInterval(idleCheck);
      await ingest();
      return serial(async () => {
        await closeSpool();
        connection.closeSync();
        instance.closeSync();
      });
    },
  };
}

/**
 * Evidence in ClickHouse, shared by every replica: a MergeTree table ordered by (time, trace id),
 * one partition per day. It works with servers as old as 18.16 (Debian's), which take no query
 * parameters ("Unknown setting param_*"): values enter the SQL only as literals written by
 * `sqlLiteral`, which takes strings and finite numbers and nothing else. Records go in as
 * JSONEachRow bodies, never as SQL.
 *
 * Deletes are mutations, which ClickHouse runs in the background: prune waits until the table has
 * none left undone, so what it says is gone is gone. Whole days older than the retention are
 * dropped as partitions first (no rewrite). Prune is meant to run on one replica at a time.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { aggregateSql, COLUMNS, groupOf, pageSql, recordOf, rowOf, type Condition } from './sql.ts';
import type { EvidenceAggregation, EvidenceGroup, EvidencePage, EvidenceStore } from './types.ts';

/** How long prune waits for ClickHouse to finish its deletes. */
const MUTATION_WAIT_MS = 120_000;

/** A character as a ClickHouse string literal writes it: backslash and quote escaped, control characters and DEL as \xHH. */
function escapedChar(c: string): string {
  if (c === '\\' || c === "'") return `\\${c}`;
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
}

/**
 * A value as a ClickHouse SQL literal: a string single-quoted (backslash and quote escaped, control
 * characters as \xHH, so a literal is one line), a finite number as its JavaScript text (digits,
 * sign, point, exponent). Anything else is refused.
 */
export function sqlLiteral(value: unknown): string {
  if (typeof value === 'string') return `'${Array.from(value, escapedChar).join('')}'`;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(`not a value for ClickHouse SQL: ${typeof value}`);
}

/** A database or table name, checked and back-quoted: only letters, digits and underscores. */
function identifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new TypeError(`not a ClickHouse name: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** The start of a bucket: whole milliseconds only. */
function bucketOf(bucketMs: number): string {
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new RangeError(`bucketMs must be a positive whole number of ms: ${bucketMs}`);
  return `intDiv(time, ${sqlLiteral(bucketMs)}) * ${sqlLiteral(bucketMs)}`;
}

const literalOf = (condition: Condition) => sqlLiteral(condition.value);

function createTableSql(table: string): string {
  const columns = COLUMNS.map(([column, , , type]) => `${column} ${type}`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${table} (${columns}) ENGINE = MergeTree PARTITION BY toDate(intDiv(time, 1000)) ORDER BY (time, trace_id)`;
}


/** Opens (creating when new) the evidence table `database.table` on the ClickHouse server at `url`. */
export async function openClickHouseEvidence(options: { url: string; database?: string; table?: string }): Promise<EvidenceStore> {
  const databaseName = options.database ?? 'default';
  const tableName = options.table ?? 'evidence';
  const database = identifier(databaseName);
  const table = `${database}.${identifier(tableName)}`;
  // loaded here, not at every start: only a gateway given CLICKHOUSE_URL uses it
  const { createClient } = await import('@clickhouse/client');
  const client: ClickHouseClient = createClient({ url: options.url, application: 'sluice-evidence' });

  const rows = async (query: string) => (await (await client.query({ query, format: 'JSONEachRow' })).json()) as Record<string, unknown>[];
  const number = async (query: string) => Number(Object.values((await rows(query))[0] ?? {})[0] ?? 0);
  const run = (query: string) => client.command({ query }).then(() => undefined);
  const ofThisTable = `database = ${sqlLiteral(databaseName)} AND table = ${sqlLiteral(tableName)}`;

  await run(`CREATE DATABASE IF NOT EXISTS ${database}`);
  await run(createTableSql(table));

  /** Waits until every mutation (delete) of the table is done. */
  async function mutationsDone(): Promise<void> {
    const deadline = Date.now() + MUTATION_WAIT_MS;
    while ((await number(`SELECT count() FROM system.mutations WHERE ${ofThisTable} AND is_done = 0`)) > 0) {
      if (Date.now() > deadline) throw new Error(`ClickHouse has not finished deleting from ${databaseName}.${tableName} after ${MUTATION_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Deletes the records matching `where` (SQL of literals only) and says how many there were. */
  async function deleteWhere(where: string): Promise<number> {
    const matching = await number(`SELECT count() FROM ${table} WHERE ${where}`);
    if (matching === 0) return 0;
    await run(`ALTER TABLE ${table} DELETE WHERE ${where}`);
    await mutationsDone();
    return matching;
  }

  /** Drops the day partitions wholly before the day of `olderThan` (no rewrite, unlike a delete). */
  async function dropDaysBefore(olderThan: number): Promise<void> {
    const days = await rows(`SELECT DISTINCT partition FROM system.parts WHERE ${ofThisTable} AND active AND toDate(partition) < toDate(intDiv(${sqlLiteral(olderThan)}, 1000))`);
    for (const { partition } of days) {
      if (typeof partition !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(partition)) throw new Error(`unexpected evidence partition: ${String(partition)}`);
      await run(`ALTER TABLE ${table} DROP PARTITION ${sqlLiteral(partition)}`);
    }
  }

  const bytes = () => number(`SELECT sum(bytes_on_disk) FROM system.parts WHERE ${ofThisTable} AND active`);
  const count = () => number(`SELECT count() FROM ${table}`);

  /** Deletes the oldest records while the table is over `maxBytes`: the share it is over by (a tenth at least) per round. */
  async function capTo(maxBytes: number): Promise<number> {
    let deleted = 0;
    for (let round = 0; round < 20; round++) {
      const now = await bytes();
      if (now <= maxBytes || (await count()) === 0) break;
      const share = Math.min(1, Math.max(0.1, 1 - maxBytes / now));
      const edge = await number(`SELECT ${share === 1 ? 'max(time)' : `quantile(${sqlLiteral(share)})(time)`} FROM ${table}`);
      deleted += await deleteWhere(`time <= ${sqlLiteral(Math.floor(edge))}`);
    }
    return deleted;
  }

  /** One prune at a time in this process. */
  let pruning: Promise<unknown> = Promise.resolve();

  return {
    name: 'clickhouse',
    async insert(records) {
      if (records.length === 0) return;
      await client.insert({ table, values: records.map(rowOf), format: 'JSONEachRow' });
    },
    async find(page: EvidencePage) {
      const { sql } = pageSql(page, literalOf, table);
      return (await rows(sql)).map(recordOf);
    },
    async aggregate(query: EvidenceAggregation): Promise<EvidenceGroup[]> {
      const { sql } = aggregateSql(query, literalOf, bucketOf, table);
      return (await rows(sql)).map((row) => groupOf(row, query.by));
    },
    prune({ olderThan, maxBytes }) {
      const work = async () => {
        const expired = await number(`SELECT count() FROM ${table} WHERE time < ${sqlLiteral(olderThan)}`);
        await dropDaysBefore(olderThan);
        await deleteWhere(`time < ${sqlLiteral(olderThan)}`);
        return { deleted: expired + (await capTo(maxBytes)) };
      };
      const next = pruning.then(work, work);
      pruning = next.catch(() => undefined);
      return next;
    },
    async size() {
      return { records: await count(), bytes: await bytes() };
    },
    close: () => client.close(),
  };
}

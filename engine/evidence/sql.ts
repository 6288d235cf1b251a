/**
 * The SQL both evidence stores share: the table's columns, the WHERE of a filter and the GROUP BY
 * of an aggregation. Values never enter the text: each store binds them as parameters (DuckDB) or
 * writes them as literals through its own escaping (ClickHouse 18, which takes no parameters).
 */
import { epochMillisText, millisText } from '../observe/json-text.ts';
import type { EvidenceAggregation, EvidenceDimension, EvidenceFilter, EvidencePage, EvidenceRecord } from './types.ts';

/** The columns in table order: name, the record's field, and the type as each store declares it. */
export const COLUMNS = [
  ['time', 'time', 'BIGINT', 'Int64'],
  ['trace_id', 'traceId', 'VARCHAR', 'String'],
  ['replica', 'replica', 'VARCHAR', 'String'],
  ['method', 'method', 'VARCHAR', 'String'],
  ['partner', 'partner', 'VARCHAR', 'Nullable(String)'],
  ['product', 'product', 'VARCHAR', 'Nullable(String)'],
  ['workflow', 'workflow', 'VARCHAR', 'Nullable(String)'],
  ['version', 'version', 'INTEGER', 'Nullable(Int32)'],
  ['route', 'route', 'VARCHAR', 'Nullable(String)'],
  ['subject', 'subject', 'VARCHAR', 'Nullable(String)'],
  ['credential', 'credential', 'VARCHAR', 'Nullable(String)'],
  ['key_id', 'keyId', 'VARCHAR', 'Nullable(String)'],
  ['nodes', 'nodes', 'VARCHAR', 'String'],
  ['outcome', 'outcome', 'VARCHAR', 'String'],
  ['status', 'status', 'INTEGER', 'Int32'],
  ['problem', 'problem', 'VARCHAR', 'Nullable(String)'],
  ['ms', 'ms', 'DOUBLE', 'Float64'],
  ['upstream_status', 'upstreamStatus', 'INTEGER', 'Nullable(Int32)'],
  ['upstream_ms', 'upstreamMs', 'DOUBLE', 'Nullable(Float64)'],
  ['model', 'model', 'VARCHAR', 'Nullable(String)'],
  ['input_tokens', 'inputTokens', 'BIGINT', 'Nullable(Int64)'],
  ['output_tokens', 'outputTokens', 'BIGINT', 'Nullable(Int64)'],
] as const satisfies ReadonlyArray<readonly [string, keyof EvidenceRecord, string, string]>;

/** The column of each filter field and dimension. */
const COLUMN_OF: Record<EvidenceDimension | 'traceId', string> = {
  partner: 'partner', product: 'product', workflow: 'workflow', version: 'version', outcome: 'outcome', status: 'status', problem: 'problem', replica: 'replica', credential: 'credential', traceId: 'trace_id',
};

/** A condition with its value, for the store to bind or write. */
export interface Condition {
  column: string;
  op: '=' | '>=' | '<' | '<=';
  value: string | number;
}

/** The conditions of a filter: the time range, then each exact value given. */
function conditionsOf(filter: EvidenceFilter): Condition[] {
  const conditions: Condition[] = [
    { column: 'time', op: '>=', value: filter.from },
    { column: 'time', op: '<', value: filter.to },
  ];
  for (const field of ['partner', 'product', 'workflow', 'version', 'outcome', 'status', 'problem', 'replica', 'credential', 'traceId'] as const) {
    const value = filter[field];
    if (value !== undefined) conditions.push({ column: COLUMN_OF[field], op: '=', value });
  }
  return conditions;
}

/** The WHERE and ORDER BY of a page of records, newest first; `placeholder(i, condition)` writes the i-th value; `table` is a name the store has checked. */
export function pageSql(page: EvidencePage, placeholder: (condition: Condition, index: number) => string, table = 'evidence'): { sql: string; conditions: Condition[] } {
  const conditions = conditionsOf(page);
  let where = conditions.map((c, i) => `${c.column} ${c.op} ${placeholder(c, i)}`).join(' AND ');
  if (page.before !== undefined) {
    // keyset: strictly after the previous page's last record in (time desc, trace id desc) order
    const time = { column: 'time', op: '<=', value: page.before.time } as const;
    const trace = { column: 'trace_id', op: '<', value: page.before.traceId } as const;
    const earlier = { column: 'time', op: '<', value: page.before.time } as const;
    const n = conditions.length;
    conditions.push(earlier, time, trace);
    where += ` AND (time < ${placeholder(earlier, n)} OR (time <= ${placeholder(time, n + 1)} AND trace_id < ${placeholder(trace, n + 2)}))`;
  }
  return { sql: `SELECT ${COLUMNS.map(([c]) => c).join(', ')} FROM ${table} WHERE ${where} ORDER BY time DESC, trace_id DESC LIMIT ${Math.floor(page.limit)}`, conditions };
}

/** The query of an aggregation: groups by bucket and dimensions, oldest bucket first. */
export function aggregateSql(query: EvidenceAggregation, placeholder: (condition: Condition, index: number) => string, bucketOf: (bucketMs: number) => string, table = 'evidence'): { sql: string; conditions: Condition[] } {
  const conditions = conditionsOf(query);
  const where = conditions.map((c, i) => `${c.column} ${c.op} ${placeholder(c, i)}`).join(' AND ');
  const bucket = query.bucketMs === undefined ? 'NULL' : bucketOf(Math.floor(query.bucketMs));
  const dimensions = query.by.map((d) => COLUMN_OF[d]);
  const groups = ['bucket', ...dimensions];
  return {
    sql:
      `SELECT ${bucket} AS bucket${dimensions.map((d) => `, ${d}`).join('')}, count(*) AS n, avg(ms) AS mean_ms, max(ms) AS max_ms FROM ${table} WHERE ${where}` +
      ` GROUP BY ${groups.join(', ')} ORDER BY ${groups.join(', ')}`,
    conditions,
  };
}

/** A record as a row of the table: column names, absent values null, the node path as one space-separated text (recordOf reads it back). */
export function rowOf(record: EvidenceRecord): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [column, field] of COLUMNS) row[column] = field === 'nodes' ? record.nodes.join(' ') : (record[field] ?? null);
  return row;
}

/** A character that makes a CSV field quoted: any but these (an empty field reads as null, so it is quoted too). */
const CSV_QUOTED = /[^A-Za-z0-9_.:/@+-]/;
/**
 * A text as a CSV field (null as an empty field, an empty text as ""), as DuckDB's read_csv reads it
 * back with allow_quoted_nulls off: unquoted when every character is a letter, digit or one of
 * `_.:/@+-`, else quoted. A regular expression, not a loop over char codes: the texts come in
 * several string representations (constants, slices, concatenations), so in the gateway a loop's
 * `length` and `charCodeAt` were megamorphic loads, two a character (~12,000 instructions a
 * record, counted), where a test costs a few hundred whatever the string.
 */
function csvText(value: string): string {
  if (value.length === 0) return '""';
  return CSV_QUOTED.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
const csvTextOrNull = (value: string | null): string => (value === null ? '' : csvText(value));
/** A number as JSON.stringify writes it; null (and what JSON makes null: NaN, infinities) as an empty field. */
const csvNumberOrNull = (value: number | null): string => (value === null || !Number.isFinite(value) ? '' : `${value}`);
/** A duration as csvNumberOrNull writes it, faster (millisText says why). */
const csvMillisOrNull = (value: number | null): string => (value === null || !Number.isFinite(value) ? '' : millisText(value));

/** The CSV field of node paths shared by many records (frozen: capture.ts makes one per path a version's requests take). */
const pathFields = new WeakMap<readonly string[], string>();

/** The node path as the CSV field of its space-separated text; a shared path's is made once. */
function nodesField(nodes: readonly string[]): string {
  let field = pathFields.get(nodes);
  if (field === undefined) {
    field = nodes.length === 0 ? '""' : csvText(nodes.join(' '));
    if (Object.isFrozen(nodes)) pathFields.set(nodes, field);
  }
  return field;
}

/**
 * A record as one line of CSV, rowOf's values in table order: the DuckDB store's spool line. No
 * header, no field names: half the bytes of the JSON line it replaced, and less for DuckDB to read
 * in. Every record a gateway serves is encoded once. The test reads lines back through DuckDB.
 */
export function csvLineOf(r: EvidenceRecord): string {
  return (
    `${Number.isFinite(r.time) ? epochMillisText(r.time) : ''},${csvText(r.traceId)},${csvText(r.replica)},${csvText(r.method)},${csvTextOrNull(r.partner)},${csvTextOrNull(r.product)},${csvTextOrNull(r.workflow)}` +
    `,${csvNumberOrNull(r.version)},${csvTextOrNull(r.route)},${csvTextOrNull(r.subject)},${csvTextOrNull(r.credential)},${csvTextOrNull(r.keyId)},${nodesField(r.nodes)},${csvText(r.outcome)}` +
    `,${csvNumberOrNull(r.status)},${csvTextOrNull(r.problem)},${csvMillisOrNull(r.ms)},${csvNumberOrNull(r.upstreamStatus)},${csvMillisOrNull(r.upstreamMs)}` +
    `,${csvTextOrNull(r.model)},${csvNumberOrNull(r.inputTokens)},${csvNumberOrNull(r.outputTokens)}\n`
  );
}

/** A row read back as a record: nodes from their text, numbers as numbers. */
export function recordOf(row: Record<string, unknown>): EvidenceRecord {
  const record: Record<string, unknown> = {};
  for (const [column, field] of COLUMNS) {
    const value = row[column];
    record[field] = value === null || value === undefined ? null : typeof value === 'bigint' ? Number(value) : value;
  }
  const nodes = record.nodes as string | null;
  record.nodes = nodes === null || nodes === '' ? [] : nodes.split(' ');
  for (const numeric of ['time', 'version', 'status', 'ms', 'upstreamStatus', 'upstreamMs', 'inputTokens', 'outputTokens'] as const) {
    if (record[numeric] !== null && typeof record[numeric] === 'string') record[numeric] = Number(record[numeric]);
  }
  return record as unknown as EvidenceRecord;
}

/** An aggregation row read back as a group. */
export function groupOf(row: Record<string, unknown>, by: readonly EvidenceDimension[]): { bucket: number | null; keys: Partial<Record<EvidenceDimension, string | null>>; count: number; meanMs: number; maxMs: number } {
  const keys: Partial<Record<EvidenceDimension, string | null>> = {};
  for (const d of by) {
    const value = row[COLUMN_OF[d]];
    keys[d] = value === null || value === undefined ? null : String(value);
  }
  const num = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));
  return { bucket: row.bucket === null || row.bucket === undefined ? null : num(row.bucket), keys, count: num(row.n), meanMs: num(row.mean_ms), maxMs: num(row.max_ms) };
}

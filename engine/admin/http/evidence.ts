/**
 * Evidence queries: the records of requests (auditor, admin), counts over time (every role: no
 * record, no subject), one trace with what was true of its workflow and partner then, and an
 * export (NDJSON or CSV) streamed page by page.
 */
import { z } from 'zod';
import { EVIDENCE_DIMENSIONS, evidenceAggregateSchema, evidencePageSchema, evidenceTraceSchema, type EvidenceRecord } from '../../../shared/admin/index.ts';
import { durationMs, durationSchema } from '../../../shared/schema/duration.ts';
import type { AuditEntry } from '../../store/audit.ts';
import type { EvidenceFilter, EvidenceStore } from '../../evidence/types.ts';
import { AdminError } from '../errors.ts';
import type { AdminContext } from './context.ts';
import { defineEndpoint, StreamedAnswer, type Endpoint } from './endpoint.ts';

const HOUR = 3_600_000;
/** Most groups an aggregation answers: buckets times values. */
const MAX_BUCKETS = 2_000;
/** Records an export writes at most. */
const MAX_EXPORT = 1_000_000;
/** Audit entries shown before and after a trace's time. */
const AUDIT_AROUND = 10;

/** A time as ms since the epoch or an ISO date-time. */
const instant = z.union([z.coerce.number().int().min(0), z.iso.datetime({ offset: true }).transform((text) => Date.parse(text))]);
const text = z.string().min(1).max(300);

const filterFields = {
  from: instant.optional().meta({ description: 'Start (inclusive): ms since the epoch or ISO date-time. Default: an hour before `to`.' }),
  to: instant.optional().meta({ description: 'End (exclusive). Default: now.' }),
  partner: text.optional(),
  product: text.optional(),
  workflow: text.optional(),
  version: z.coerce.number().int().min(1).optional(),
  outcome: text.optional(),
  status: z.coerce.number().int().min(100).max(599).optional(),
  problem: text.optional().meta({ description: 'The problem type (its URI).' }),
  replica: text.optional(),
  credential: text.optional(),
};
const pageQuery = z
  .object({
    ...filterFields,
    trace: z.string().regex(/^[0-9a-f]{32}$/).optional().meta({ description: 'Only this trace id.' }),
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
    before: z.string().regex(/^\d+:[0-9a-f]{32}$/).optional().meta({ description: 'The `next` of the previous page.' }),
  })
  .strict();
const aggregateQuery = z
  .object({
    ...filterFields,
    by: z
      .string()
      .default('outcome')
      .transform((list, ctx) => {
        const names = list.split(',').map((n) => n.trim()).filter(Boolean);
        for (const name of names) if (!(EVIDENCE_DIMENSIONS as readonly string[]).includes(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is not one of ${EVIDENCE_DIMENSIONS.join(', ')}` });
        return [...new Set(names)] as Array<(typeof EVIDENCE_DIMENSIONS)[number]>;
      })
      .meta({ description: `Group by these, comma-separated: ${EVIDENCE_DIMENSIONS.join(', ')}.` }),
    bucket: durationSchema.optional().meta({ description: 'Time buckets of this width (1m, 1h, 1d); without it one total per group.' }),
  })
  .strict();
const exportQuery = z.object({ ...filterFields, format: z.enum(['ndjson', 'csv']).default('ndjson') }).strict();
const traceParams = z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/, 'a trace id is 32 lower-case hex digits') });

/** The filter of a query: `to` defaults to now and `from` to an hour before it. */
function filterOf(query: z.output<typeof pageQuery> | z.output<typeof exportQuery> | z.output<typeof aggregateQuery>, now: number): EvidenceFilter {
  const to = query.to ?? now;
  const from = query.from ?? to - HOUR;
  if (from >= to) throw new AdminError('bad_request', '`from` must be before `to`');
  const { partner, product, workflow, version, outcome, status, problem, replica, credential } = query;
  return { from, to, partner, product, workflow, version, outcome, status, problem, replica, credential };
}

const CSV_COLUMNS = ['time', 'traceId', 'replica', 'method', 'partner', 'product', 'workflow', 'version', 'route', 'subject', 'credential', 'keyId', 'nodes', 'outcome', 'status', 'problem', 'ms', 'upstreamStatus', 'upstreamMs', 'model', 'inputTokens', 'outputTokens'] as const satisfies ReadonlyArray<keyof EvidenceRecord>;

/** A CSV field: quoted when it holds a separator, a quote or a line break; a leading =, +, - or @ is neutralised so a spreadsheet never runs it. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = Array.isArray(value) ? value.join(' ') : String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The records of a filter, page by page (newest first), at most `max`. */
async function* pagesOf(store: EvidenceStore, filter: EvidenceFilter, max: number): AsyncGenerator<EvidenceRecord[]> {
  let before: { time: number; traceId: string } | undefined;
  let left = max;
  while (left > 0) {
    const page = await store.find({ ...filter, limit: Math.min(1_000, left), before });
    if (page.length === 0) return;
    yield page;
    left -= page.length;
    if (page.length < 1_000) return;
    const last = page.at(-1)!;
    before = { time: last.time, traceId: last.traceId };
  }
}

async function* exportLines(store: EvidenceStore, filter: EvidenceFilter, format: 'ndjson' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
  for await (const page of pagesOf(store, filter, MAX_EXPORT)) {
    yield page.map((r) => (format === 'csv' ? CSV_COLUMNS.map((c) => csvField(r[c])).join(',') : JSON.stringify(r))).join('\n') + '\n';
  }
}

/** What the audit log says around a request: the entries of its workflow and partner before and after it, the version's publication, the partner's suspension. */
function auditAround(entries: readonly AuditEntry[], record: EvidenceRecord) {
  const at = new Date(record.time).toISOString();
  const concerned = entries.filter((e) => (record.workflow !== null && e.workflow === record.workflow) || (record.partner !== null && e.partner === record.partner));
  const split = concerned.findIndex((e) => e.time > at);
  const before = split < 0 ? concerned : concerned.slice(0, split);
  const after = split < 0 ? [] : concerned.slice(split);
  const published = [...before].reverse().find((e) => e.action === 'workflow.publish' && e.workflow === record.workflow && e.version === record.version);
  const lastSuspension = [...before].reverse().find((e) => e.partner === record.partner && (e.action === 'partner.suspend' || e.action === 'partner.reactivate'));
  return {
    audit: [...before.slice(-AUDIT_AROUND), ...after.slice(0, AUDIT_AROUND)],
    served:
      published === undefined || record.workflow === null || record.version === null
        ? null
        : { workflow: record.workflow, version: record.version, publishedAt: published.time, publishedBy: published.actor, ...(published.detail?.startsWith('note: ') ? { note: published.detail.slice(6) } : {}) },
    partnerSuspended: record.partner === null ? null : lastSuspension?.action === 'partner.suspend',
  };
}

export function evidenceEndpoints({ options, store }: AdminContext): Endpoint[] {
  const evidence = () => {
    if (options.evidence === undefined) throw new AdminError('not_found', 'evidence is off (SLUICE_EVIDENCE=off, or a worker of `serve --workers` without CLICKHOUSE_URL)');
    return options.evidence;
  };
  return [
    defineEndpoint({
      method: 'get', path: '/evidence', permission: 'audit', summary: 'Evidence records of requests, newest first: who called, which version served, the node path and the outcome; filter by time, partner, product, workflow, version, outcome, status, problem or trace', query: pageQuery, response: evidencePageSchema,
      handler: async ({ query }) => {
        const filter = { ...filterOf(query, Date.now()), traceId: query.trace };
        const [time, traceId] = query.before === undefined ? [] : query.before.split(':');
        const records = await evidence().find({ ...filter, limit: query.limit, before: time === undefined ? undefined : { time: Number(time), traceId: traceId! } });
        const last = records.at(-1);
        return { from: filter.from, to: filter.to, records, next: records.length === query.limit && last !== undefined ? `${last.time}:${last.traceId}` : null };
      },
    }),
    defineEndpoint({
      method: 'get', path: '/evidence/aggregate', permission: 'read', summary: 'Requests counted by time bucket and by partner, product, workflow, version, outcome, status, problem, replica or credential (counts only: every role)', query: aggregateQuery, response: evidenceAggregateSchema,
      handler: async ({ query }) => {
        const filter = filterOf(query, Date.now());
        const bucketMs = query.bucket === undefined ? undefined : durationMs(query.bucket);
        if (bucketMs !== undefined && (filter.to - filter.from) / bucketMs > MAX_BUCKETS) throw new AdminError('bad_request', `${query.bucket} buckets over this range would be more than ${MAX_BUCKETS}: choose wider buckets or a shorter range`);
        const groups = await evidence().aggregate({ ...filter, by: query.by, bucketMs });
        return { from: filter.from, to: filter.to, bucketMs: bucketMs ?? null, groups };
      },
    }),
    defineEndpoint({
      method: 'get', path: '/evidence/traces/:traceId', permission: 'audit', summary: 'The requests of one trace, the version that served them as it was published, and the audit entries of their workflow and partner around that time', params: traceParams, response: evidenceTraceSchema,
      handler: async ({ params }) => {
        const records = await evidence().find({ from: 0, to: Number.MAX_SAFE_INTEGER, traceId: params.traceId, limit: 100 });
        if (records.length === 0) throw new AdminError('not_found', `no evidence of trace ${params.traceId}`);
        return { records, ...auditAround(await store.audit(), records.at(-1)!) };
      },
    }),
    defineEndpoint({
      method: 'get', path: '/evidence/export', permission: 'audit', summary: 'The evidence records of a filter as NDJSON or CSV, streamed (newest first, at most 1,000,000)', query: exportQuery, response: z.custom<StreamedAnswer>((value) => value instanceof StreamedAnswer), streamed: ['application/x-ndjson', 'text/csv'],
      handler: async ({ query }) => {
        const filter = filterOf(query, Date.now());
        const type = query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
        return new StreamedAnswer(type, `evidence-${new Date(filter.from).toISOString().slice(0, 10)}.${query.format}`, exportLines(evidence(), filter, query.format));
      },
    }),
  ];
}

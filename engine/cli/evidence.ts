/** `sluice evidence`: the evidence queries of the admin API, for scripts and terminals. */
import { parseArgs } from 'node:util';
import { evidenceAggregateSchema, evidencePageSchema, evidenceTraceSchema } from '../../shared/admin/index.ts';
import { refused } from '../admin/partner-cli.ts';
import { parseDurationMs } from '../../shared/schema/duration.ts';

export const EVIDENCE_USAGE = `  evidence find [filters] [--trace ID] [--limit N] [--before CURSOR] [--json]
                                 requests newest first: time, partner, workflow@version, status, node path
  evidence count [filters] [--by partner,outcome] [--bucket 1h] [--json]
                                 requests counted by time bucket and dimension (every role)
  evidence trace <trace id> [--json]
                                 one trace's requests, the version that served them and the audit entries around
  evidence export [filters] [--format ndjson|csv]
                                 every record of the filters to stdout
                                 filters: --from T --to T (ISO date-time, or a duration ago: --from 24h)
                                 --partner P --product P --workflow W --version N --outcome O --status S --problem TYPE`;

const one = { type: 'string' } as const;
const FILTERS = { from: one, to: one, partner: one, product: one, workflow: one, version: one, outcome: one, status: one, problem: one, replica: one, credential: one } as const;

/** A time argument: an ISO date-time, ms since the epoch, or a duration ago ("24h"). */
function instant(text: string, now: number): string {
  const ago = parseDurationMs(text);
  if (ago !== undefined) return String(now - ago);
  if (/^\d+$/.test(text)) return text;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw Object.assign(new Error(`usage: "${text}" is not a time (an ISO date-time, or a duration ago like 24h)`), { code: 'ERR_PARSE_ARGS_USAGE' });
  return String(ms);
}

/** The query string of the filters given (and any other options named in `extra`). */
function queryOf(values: Record<string, string | boolean | undefined>, names: readonly string[], now: number): string {
  const query = new URLSearchParams();
  for (const name of names) {
    const value = values[name];
    if (typeof value !== 'string') continue;
    query.set(name, name === 'from' || name === 'to' ? instant(value, now) : value);
  }
  return query.size === 0 ? '' : `?${query}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Runs `sluice evidence <action> …` against the admin API at `target`; the exit code. */
export async function evidenceCommand(args: string[], target: () => { url: string; token: string }, out: (text: string) => void = (t) => void process.stdout.write(t)): Promise<number> {
  const [action, ...rest] = args;
  const now = Date.now();
  const get = async (path: string) => {
    const { url, token } = target();
    return fetch(`${url.replace(/\/$/, '')}/admin/api${path}`, { headers: { authorization: `Bearer ${token}` } });
  };
  const refusal = async (res: Response) => refused(res.status, await res.json().catch(() => ({})));
  switch (action) {
    case 'find': {
      const { values } = parseArgs({ args: rest, options: { ...FILTERS, trace: one, limit: one, before: one, json: { type: 'boolean' } } });
      const res = await get(`/evidence${queryOf(values, [...Object.keys(FILTERS), 'trace', 'limit', 'before'], now)}`);
      if (!res.ok) return refusal(res);
      const page = evidencePageSchema.parse(await res.json());
      if (values.json) out(`${JSON.stringify(page, null, 2)}\n`);
      else for (const r of page.records) out(`${iso(r.time)}  ${r.traceId}  ${r.partner ?? '-'}  ${r.workflow ?? '-'}@${r.version ?? '-'}  ${r.status} ${r.outcome}${r.problem ? ` ${r.problem}` : ''}  ${r.nodes.join(' > ')}\n`);
      if (!values.json && page.next) out(`(more: the same with --before ${page.next})\n`);
      return 0;
    }
    case 'count': {
      const { values } = parseArgs({ args: rest, options: { ...FILTERS, by: one, bucket: one, json: { type: 'boolean' } } });
      const res = await get(`/evidence/aggregate${queryOf(values, [...Object.keys(FILTERS), 'by', 'bucket'], now)}`);
      if (!res.ok) return refusal(res);
      const counts = evidenceAggregateSchema.parse(await res.json());
      if (values.json) out(`${JSON.stringify(counts, null, 2)}\n`);
      else for (const g of counts.groups) out(`${g.bucket === null ? '' : `${iso(g.bucket)}  `}${Object.entries(g.keys).map(([k, v]) => `${k}=${v ?? '-'}`).join(' ')}  ${g.count}  mean ${g.meanMs.toFixed(1)} ms\n`);
      return 0;
    }
    case 'trace': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
      if (!positionals[0]) throw Object.assign(new Error('usage: sluice evidence trace <trace id>'), { code: 'ERR_PARSE_ARGS_USAGE' });
      const res = await get(`/evidence/traces/${encodeURIComponent(positionals[0])}`);
      if (!res.ok) return refusal(res);
      const trace = evidenceTraceSchema.parse(await res.json());
      if (values.json) {
        out(`${JSON.stringify(trace, null, 2)}\n`);
        return 0;
      }
      for (const r of trace.records) out(`${iso(r.time)}  ${r.method} ${r.route ?? '-'}  ${r.partner ?? '-'}  ${r.workflow ?? '-'}@${r.version ?? '-'}  ${r.status} ${r.outcome}  ${r.nodes.join(' > ')}\n`);
      if (trace.served) out(`served by version ${trace.served.version}, published ${trace.served.publishedAt} by ${trace.served.publishedBy}${trace.served.note ? ` (${trace.served.note})` : ''}\n`);
      if (trace.partnerSuspended !== null) out(`partner ${trace.partnerSuspended ? 'was suspended' : 'was not suspended'} at that time\n`);
      for (const e of trace.audit) out(`  ${e.time}  ${e.actor} (${e.role})  ${e.action}${e.workflow ? ` ${e.workflow}` : ''}${e.version ? ` v${e.version}` : ''}${e.partner ? ` ${e.partner}` : ''}${e.detail ? `: ${e.detail}` : ''}\n`);
      return 0;
    }
    case 'export': {
      const { values } = parseArgs({ args: rest, options: { ...FILTERS, format: one } });
      const res = await get(`/evidence/export${queryOf(values, [...Object.keys(FILTERS), 'format'], now)}`);
      if (!res.ok || res.body === null) return refusal(res);
      const decoder = new TextDecoder();
      for await (const chunk of res.body) out(decoder.decode(chunk, { stream: true }));
      return 0;
    }
    default:
      process.stderr.write(`${EVIDENCE_USAGE}\n`);
      return 2;
  }
}

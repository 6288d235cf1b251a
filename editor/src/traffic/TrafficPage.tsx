import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { describeError, type EvidenceRecord } from '../api/client.ts';
import { can } from '../api/roles.ts';
import type { KindsPayload } from '../api/types.ts';
import { statusClass } from '../components/PreviewPanel.tsx';
import { useSessionContext } from '../editor-context.ts';
import { useLatest } from '../hooks/useLatest.ts';
import { useResource, type Resource } from '../hooks/useResource.ts';
import { Histogram, outcomeClass, outcomeOrder, type OutcomeGroup } from './Histogram.tsx';
import { RecordDetail } from './RecordDetail.tsx';
import { apiQuery, bucketFor, localInput, OUTCOMES, outcomeWords, parseTrafficQuery, RANGES, timeText, trafficHref, windowOf, type RangeId, type TextFilter, type TrafficQuery } from './traffic-model.ts';
import './traffic.css';

const PAGE = 50;

/** The page's query without the open record: what the histogram and the table depend on. */
const listKey = (q: TrafficQuery) => trafficHref({ ...q, open: undefined });

/** The records of a filter, page by page: the first on a new filter, more on "Load more". */
function useRecords(load: (before: string | undefined) => Promise<{ records: EvidenceRecord[]; next: string | null }>, key: string | undefined) {
  const [state, setState] = useState<{ key: string; records: EvidenceRecord[]; next: string | null; loading: boolean; error?: unknown } | undefined>();
  // `load` is a new closure when the page re-renders; `key` says when the records are others.
  const latestLoad = useLatest(load);
  const fetchPage = useCallback(
    (key: string, before: string | undefined, kept: EvidenceRecord[]) => {
      setState({ key, records: kept, next: null, loading: true });
      latestLoad.current(before).then(
        (page) => setState((s) => (s?.key === key ? { key, records: [...kept, ...page.records], next: page.next, loading: false } : s)),
        (error: unknown) => setState((s) => (s?.key === key ? { key, records: kept, next: before ?? null, loading: false, error } : s)),
      );
    },
    [latestLoad],
  );
  useEffect(() => {
    if (key !== undefined) fetchPage(key, undefined, []);
  }, [key, fetchPage]);
  const shown = state?.key === key ? state : undefined;
  const more = useCallback(() => {
    if (shown?.next && key !== undefined) fetchPage(key, shown.next, shown.records);
  }, [shown, key, fetchPage]);
  return { records: shown?.records ?? [], next: shown?.next ?? null, loading: shown?.loading ?? key !== undefined, error: shown?.error, more };
}

/**
 * Traffic: what the gateway answered, from the evidence store. Filters (time, partner, product,
 * workflow, version, outcome, status, problem) live in the URL's hash, so a link carries them;
 * requests over time stacked by outcome, with totals, for every role; the records themselves,
 * their export (NDJSON, CSV) and one opened with its path lit on the version that served it, for
 * auditors and admins (the API's `audit` permission).
 */
export function TrafficPage({ query: text, kinds }: { query: string; kinds: Resource<KindsPayload> }) {
  const query = useMemo(() => parseTrafficQuery(text), [text]);
  // New filters start anew (a preset window ends now, the records from their first page); opening a record keeps them.
  return <TrafficView key={listKey(query)} query={query} kinds={kinds} />;
}

function TrafficView({ query, kinds }: { query: TrafficQuery; kinds: Resource<KindsPayload> }) {
  const { api, identity } = useSessionContext();
  const mayAudit = can(identity.role, 'audit');
  const key = listKey(query);
  // A preset window ends when its filters were chosen (or Refresh pressed), and stays put while records are paged and opened.
  const [now, setNow] = useState(() => Date.now());
  const span = useMemo(() => windowOf(query, now), [query, now]);
  const bucket = bucketFor(span.from, span.to);
  const loadKey = `${key}@${span.from}-${span.to}`;
  const { resource: aggregate } = useResource(() => api.evidenceAggregate(apiQuery(span, query.filters, { by: 'outcome', bucket: bucket.bucket })), loadKey);
  const loadPage = useCallback((before: string | undefined) => api.evidence(apiQuery(span, query.filters, { limit: String(PAGE), ...(before ? { before } : {}) })), [api, span, query.filters]);
  const records = useRecords(loadPage, mayAudit ? loadKey : undefined);
  const { resource: choices } = useResource(async () => {
    const [partners, products, workflows, catalog] = await Promise.all([api.partners().catch(() => undefined), api.products().catch(() => undefined), api.workflows().catch(() => undefined), api.catalog().catch(() => undefined)]);
    return {
      partner: partners?.partners.map((p) => p.id) ?? [],
      product: products?.products.map((p) => p.id) ?? [],
      workflow: workflows?.workflows.map((w) => w.id) ?? [],
      problem: catalog ? [...new Set(Object.values(catalog.errors).map((e) => e.type))].sort() : [],
    };
  }, 'traffic-choices');
  const go = (next: Partial<TrafficQuery>) => {
    window.location.hash = trafficHref({ ...query, ...next });
  };

  if (query.open !== undefined) {
    if (!mayAudit)
      return (
        <main className="page traffic-page">
          <h1>Traffic</h1>
          <p className="banner banner--readonly" role="note">
            Records need the auditor or admin role: signed in as {identity.role}, you see the counts only. <a href={trafficHref({ ...query, open: undefined })}>Back to the counts</a>
          </p>
        </main>
      );
    return (
      <main className="page traffic-page traffic-page--detail">
        <h1 className="sr-only">Traffic: trace {query.open}</h1>
        <RecordDetail key={query.open} traceId={query.open} backHref={trafficHref({ ...query, open: undefined })} kinds={kinds} />
      </main>
    );
  }

  const groups: OutcomeGroup[] = aggregate.status === 'ready' ? aggregate.value.groups.map((g) => ({ bucket: g.bucket, outcome: g.keys.outcome ?? 'unknown', count: g.count })) : [];
  const totals = new Map<string, number>();
  for (const g of groups) totals.set(g.outcome, (totals.get(g.outcome) ?? 0) + g.count);
  const total = [...totals.values()].reduce((a, b) => a + b, 0);
  const open = (traceId: string) => go({ open: traceId });

  return (
    <main className="page traffic-page">
      <div className="page__head">
        <h1>Traffic</h1>
        <div className="page__actions">
          <span className="muted small" aria-live="polite">
            {timeText(span.from)} – {timeText(span.to)}
          </span>
          <button type="button" onClick={() => setNow(Date.now())}>
            Refresh
          </button>
        </div>
      </div>
      <Filters key={key} query={query} span={span} choices={choices.status === 'ready' ? choices.value : undefined} onApply={(next) => go({ ...next, open: undefined })} />

      <section className="traffic__overview" aria-labelledby="histogram-heading">
        <div className="traffic__chart">
          <h2 id="histogram-heading">
            Requests over time <span className="muted small">by outcome, {bucket.bucket} bars</span>
          </h2>
          {aggregate.status === 'loading' && <p className="loading">Counting requests…</p>}
          {aggregate.status === 'error' && (
            <p className="field__error" role="alert">
              Cannot count requests. {describeError(aggregate.error)}
            </p>
          )}
          {aggregate.status === 'ready' && <Histogram groups={groups} from={span.from} to={span.to} bucketMs={bucket.ms} bucket={bucket.bucket} />}
        </div>
        <div className="traffic__totals">
          <h2>Totals</h2>
          {aggregate.status === 'ready' && (
            <>
              <p className="traffic__total" aria-label={`${total} requests`}>
                <strong>{total}</strong> request{total === 1 ? '' : 's'}
              </p>
              <ul aria-label="Requests by outcome">
                {outcomeOrder(groups).map((outcome) => (
                  <li key={outcome}>
                    <span className={`swatch ${outcomeClass(outcome)}`} aria-hidden="true" />
                    <button type="button" className="link" title={`Show only ${outcomeWords(outcome)}`} onClick={() => go({ filters: { ...query.filters, outcome } })}>
                      {outcomeWords(outcome)}
                    </button>
                    <span className="traffic__count">{totals.get(outcome)}</span>
                    <span className="muted small">{Math.round(((totals.get(outcome) ?? 0) / Math.max(1, total)) * 100)}%</span>
                  </li>
                ))}
                {total === 0 && <li className="muted">No requests in this span.</li>}
              </ul>
            </>
          )}
        </div>
      </section>

      {mayAudit ? (
        <RecordsTable records={records} span={span} filters={query.filters} onOpen={open} openHref={(traceId) => trafficHref({ ...query, open: traceId })} />
      ) : (
        <p className="banner banner--readonly traffic__viewer" role="note">
          Records need the auditor or admin role: signed in as {identity.role}, you see the counts only.
        </p>
      )}
    </main>
  );
}

type Choices = Partial<Record<TextFilter, string[]>>;

const FILTER_LABELS: Record<TextFilter, string> = { partner: 'Partner', product: 'Product', workflow: 'Workflow', version: 'Version', outcome: 'Outcome', status: 'Status', problem: 'Problem type' };

/** The filter form: a preset applies at once; typed filters and a custom span on Apply. */
function Filters({ query, span, choices, onApply }: { query: TrafficQuery; span: { from: number; to: number }; choices: Choices | undefined; onApply(next: Partial<TrafficQuery>): void }) {
  const [range, setRange] = useState<RangeId>(query.range);
  const [from, setFrom] = useState(localInput(query.from ?? span.from));
  const [to, setTo] = useState(localInput(query.to ?? span.to));
  const [filters, setFilters] = useState(query.filters);
  const set = (name: TextFilter, value: string) => setFilters((f) => ({ ...f, [name]: value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const clean = Object.fromEntries(Object.entries(filters).filter(([, v]) => v?.trim())) as TrafficQuery['filters'];
    onApply(range === 'custom' ? { range, from: Date.parse(from), to: Date.parse(to), filters: clean } : { range, filters: clean });
  };
  const text = (name: TextFilter, type: 'text' | 'number' = 'text') => (
    <label className="traffic__field" key={name}>
      <span>{FILTER_LABELS[name]}</span>
      <input type={type} name={name} value={filters[name] ?? ''} onChange={(e) => set(name, e.target.value)} list={choices?.[name] ? `traffic-${name}-list` : undefined} placeholder="any" {...(type === 'number' ? { min: name === 'status' ? 100 : 1, max: name === 'status' ? 599 : undefined } : {})} />
      {choices?.[name] && (
        <datalist id={`traffic-${name}-list`}>
          {choices[name]!.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
      )}
    </label>
  );
  return (
    <form className="traffic__filters" aria-label="Filters" onSubmit={submit}>
      <label className="traffic__field">
        <span>Time</span>
        <select
          name="range"
          value={range}
          onChange={(e) => {
            const next = e.target.value as RangeId;
            setRange(next);
            if (next !== 'custom') onApply({ range: next, filters: query.filters });
          }}
        >
          {RANGES.map((r) => (
            <option key={r.id} value={r.id}>
              {r.label}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
      </label>
      {range === 'custom' && (
        <>
          <label className="traffic__field">
            <span>From</span>
            <input type="datetime-local" name="from" value={from} onChange={(e) => setFrom(e.target.value)} required />
          </label>
          <label className="traffic__field">
            <span>To</span>
            <input type="datetime-local" name="to" value={to} onChange={(e) => setTo(e.target.value)} required />
          </label>
        </>
      )}
      {text('partner')}
      {text('product')}
      {text('workflow')}
      {text('version', 'number')}
      <label className="traffic__field">
        <span>Outcome</span>
        <select name="outcome" value={filters.outcome ?? ''} onChange={(e) => set('outcome', e.target.value)}>
          <option value="">any</option>
          {[...new Set([...OUTCOMES, ...(filters.outcome ? [filters.outcome] : [])])].map((o) => (
            <option key={o} value={o}>
              {outcomeWords(o)}
            </option>
          ))}
        </select>
      </label>
      {text('status', 'number')}
      {text('problem')}
      <div className="traffic__apply">
        <button type="submit" className="primary">
          Apply
        </button>
        <button type="button" onClick={() => onApply({ range: query.range === 'custom' ? '1h' : query.range, filters: {} })} disabled={Object.keys(query.filters).length === 0 && query.range !== 'custom'}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** The last part of a problem type URI: "partner-suspended". */
const problemName = (type: string) => type.replace(/\/+$/, '').split('/').at(-1) ?? type;

/** The records table with Load more and the exports of the same filter. */
function RecordsTable({ records, span, filters, onOpen, openHref }: { records: ReturnType<typeof useRecords>; span: { from: number; to: number }; filters: TrafficQuery['filters']; onOpen(traceId: string): void; openHref(traceId: string): string }) {
  const { api } = useSessionContext();
  const [exporting, setExporting] = useState<string | undefined>();
  const [exportError, setExportError] = useState<string | undefined>();
  const exportAs = (format: 'ndjson' | 'csv') => {
    setExporting(format);
    setExportError(undefined);
    api.evidenceExport(apiQuery(span, filters, { format })).then(
      ({ blob, name }) => {
        setExporting(undefined);
        const url = URL.createObjectURL(blob);
        const link = document.createElement('a');
        link.href = url;
        link.download = name ?? `evidence.${format}`;
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
      },
      (e: unknown) => {
        setExporting(undefined);
        setExportError(describeError(e));
      },
    );
  };
  return (
    <section className="traffic__records" aria-labelledby="records-heading">
      <div className="traffic__records-head">
        <h2 id="records-heading">Requests</h2>
        <span className="muted small">newest first; open one for its path and the audit log around it</span>
        <span className="appbar__spacer" />
        <button type="button" disabled={exporting !== undefined} onClick={() => exportAs('ndjson')}>
          {exporting === 'ndjson' ? 'Exporting…' : 'Export NDJSON'}
        </button>
        <button type="button" disabled={exporting !== undefined} onClick={() => exportAs('csv')}>
          {exporting === 'csv' ? 'Exporting…' : 'Export CSV'}
        </button>
      </div>
      {exportError && (
        <p className="field__error" role="alert">
          Cannot export. {exportError}
        </p>
      )}
      {records.error !== undefined && (
        <p className="field__error" role="alert">
          Cannot read the records. {describeError(records.error)}
        </p>
      )}
      <table className="workflows traffic__table">
        <caption className="sr-only">Requests, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Partner</th>
            <th scope="col">Workflow</th>
            <th scope="col">Route</th>
            <th scope="col">Status</th>
            <th scope="col">Problem</th>
            <th scope="col" className="traffic__num">
              ms
            </th>
            <th scope="col">Trace</th>
          </tr>
        </thead>
        <tbody>
          {records.records.map((r) => (
            <tr
              key={`${r.traceId}-${r.time}`}
              data-trace={r.traceId}
              tabIndex={0}
              className="traffic__row"
              onClick={(e) => {
                if (!(e.target as Element).closest('a')) onOpen(r.traceId);
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && e.target === e.currentTarget) onOpen(r.traceId);
              }}
            >
              <td className="traffic__time">{timeText(r.time)}</td>
              <td>{r.partner ?? <span className="muted">—</span>}</td>
              <td>{r.workflow === null ? <span className="muted">no route</span> : `${r.workflow} v${r.version}`}</td>
              <td>
                <code>
                  {r.method} {r.route ?? ''}
                </code>
              </td>
              <td>
                <span className={statusClass(r.status)}>{r.status}</span> <span className={`chip ${outcomeClass(r.outcome)}`}>{outcomeWords(r.outcome)}</span>
              </td>
              <td title={r.problem ?? undefined}>{r.problem === null ? <span className="muted">—</span> : problemName(r.problem)}</td>
              <td className="traffic__num">{r.ms.toFixed(1)}</td>
              <td>
                <a className="traffic__trace" href={openHref(r.traceId)} title={`Open trace ${r.traceId}`}>
                  {r.traceId.slice(0, 12)}…
                </a>
              </td>
            </tr>
          ))}
          {!records.loading && records.records.length === 0 && (
            <tr>
              <td colSpan={8} className="muted">
                No requests match these filters in this span.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="traffic__more">
        {records.loading && <span className="loading">Loading requests…</span>}
        {!records.loading && records.next !== null && (
          <button type="button" onClick={records.more}>
            Load more
          </button>
        )}
        {!records.loading && records.records.length > 0 && (
          <span className="muted small">
            {records.records.length} shown{records.next === null ? ', all of them' : ''}
          </span>
        )}
      </div>
    </section>
  );
}

import type { PartnerOverview } from '../../../../shared/portal/partner.ts';
import { formatSeconds, formatTime } from './format.ts';

type Workflow = PartnerOverview['subscriptions'][number]['workflows'][number];

/** How much of its limit a partner used in the current window, as a bar and in words. */
function Usage({ workflow }: { workflow: Workflow }) {
  const { limit, usage } = workflow;
  if (limit === null) return <span className="muted">no limit</span>;
  if (usage === null) return <span className="muted">{`${limit.limit} per ${limit.window}; not counted here`}</span>;
  const span = formatSeconds(usage.windowSeconds);
  const share = Math.min(1, usage.requests / limit.limit);
  const level = share >= 0.9 ? 'high' : share >= 0.6 ? 'mid' : 'low';
  return (
    <div className="partner-usage">
      <div className="partner-usage__bar" role="img" aria-label={`${usage.requests} of ${limit.limit} requests used in the last ${span}`}>
        <span className={`partner-usage__fill partner-usage__fill--${level}`} style={{ width: `${Math.round(share * 100)}%` }} />
      </div>
      <span className="small">
        {usage.requests} / {limit.limit} per {limit.window}
        {usage.limited > 0 ? <span className="partner-limited"> · {usage.limited} refused (429)</span> : null}
        {limit.source === 'override' ? <span className="muted"> · your own limit</span> : null}
      </span>
    </div>
  );
}

const STATE_WORDS: Record<Workflow['state'], string> = { active: 'active', deprecated: 'deprecated', retired: 'retired', unpublished: 'not published' };

/** The partner's API products, each workflow with its route, how it is served, its limit and the usage against it; then the deprecations that concern it. */
export function PartnerSubscriptions({ overview }: { overview: PartnerOverview }) {
  const productName = new Map(overview.subscriptions.map((p) => [p.id, p.name]));
  return (
    <>
      {overview.deprecations.length > 0 ? (
        <section aria-labelledby="partner-deprecations">
          <h2 id="partner-deprecations">Deprecations that affect you</h2>
          <ul className="partner-deprecations">
            {overview.deprecations.map((d) => (
              <li key={d.workflow} className={`portal-note portal-note--${d.state === 'retired' ? 'retired' : 'deprecated'}`}>
                <p>
                  <strong>{d.name}</strong> (version {d.version ?? '–'}, in {d.products.map((p) => productName.get(p) ?? p).join(', ')}){' '}
                  {d.state === 'retired' ? (
                    <>is retired since {d.retiredAt ? formatTime(d.retiredAt) : 'now'}: its route answers 410.</>
                  ) : (
                    <>
                      is deprecated since {d.deprecatedAt ? formatTime(d.deprecatedAt) : 'now'}
                      {d.sunset ? <>; it stops being served on {formatTime(d.sunset)} (Sunset).</> : <>; no sunset date is set yet.</>}
                    </>
                  )}
                </p>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section aria-labelledby="partner-subscriptions">
        <h2 id="partner-subscriptions">Your subscriptions</h2>
        {overview.subscriptions.length === 0 ? <p className="muted">You subscribe to no API product yet.</p> : null}
        <ul className="portal-products">
          {overview.subscriptions.map((product) => (
            <li key={product.id} className="portal-card">
              <h3>{product.name}</h3>
              {product.description ? <p className="muted">{product.description}</p> : null}
              <table className="portal-table">
                <caption className="sr-only">Workflows of {product.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Workflow</th>
                    <th scope="col">Route</th>
                    <th scope="col">Status</th>
                    <th scope="col">Limit and usage</th>
                  </tr>
                </thead>
                <tbody>
                  {product.workflows.map((w) => (
                    <tr key={w.id}>
                      <th scope="row">{w.name}</th>
                      <td>{w.route === null ? <span className="muted">–</span> : <code className="portal-route">{`${w.route.methods.join(', ')} ${w.route.path}`}</code>}</td>
                      <td>
                        <span className={`chip chip--${w.state === 'unpublished' ? 'draft' : w.state}`}>{STATE_WORDS[w.state]}</span>
                        {w.sunset ? <span className="small"> sunset {formatTime(w.sunset)}</span> : null}
                      </td>
                      <td>
                        <Usage workflow={w} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </li>
          ))}
        </ul>
        <p className="muted small">
          Usage: {overview.usage.source === 'metrics' ? 'counted by this gateway' : overview.usage.source === 'evidence' ? 'from the evidence records of every gateway' : 'not counted (metrics and evidence are off)'}, until {formatTime(overview.usage.to)}.
        </p>
      </section>
    </>
  );
}

import type { PlanRecord, ProductRecord } from '../../../shared/schema/partners.ts';
import { limitText } from './LimitsFields.tsx';

interface SectionProps<T> {
  items: readonly T[];
  readOnly: string | undefined;
  busy: boolean;
  onNew(): void;
  onEdit(item: T): void;
}

function SectionHead({ id, title, what, readOnly, busy, onNew }: { id: string; title: string; what: string; readOnly: string | undefined; busy: boolean; onNew(): void }) {
  return (
    <div className="page__head partners__section-head">
      <h2 id={id}>{title}</h2>
      <button type="button" disabled={readOnly !== undefined || busy} title={readOnly} aria-description={readOnly} onClick={onNew}>
        New {what}
      </button>
    </div>
  );
}

/** API products: named sets of workflows partners subscribe to. */
export function ProductsTable({ items, workflowNames, partnersOf, readOnly, busy, onNew, onEdit }: SectionProps<ProductRecord> & { workflowNames: ReadonlyMap<string, string>; partnersOf(product: string): string[] }) {
  return (
    <section aria-labelledby="products-title" className="partners__section">
      <SectionHead id="products-title" title="API products" what="product" readOnly={readOnly} busy={busy} onNew={onNew} />
      <table className="workflows partners">
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Workflows</th>
            <th scope="col">Partners</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((p) => (
            <tr key={p.id} aria-label={`Product ${p.id}`}>
              <td>
                <strong>{p.name}</strong>
                <div className="muted small">{p.id}</div>
                {p.description && <div className="small">{p.description}</div>}
              </td>
              <td>{p.workflows.length === 0 ? <span className="muted">none</span> : p.workflows.map((w) => workflowNames.get(w) ?? w).join(', ')}</td>
              <td>{partnersOf(p.id).join(', ') || <span className="muted">none</span>}</td>
              <td className="partners__actions">
                <button type="button" disabled={readOnly !== undefined || busy} title={readOnly} aria-description={readOnly} onClick={() => onEdit(p)}>
                  Edit
                </button>
              </td>
            </tr>
          ))}
          {items.length === 0 && (
            <tr>
              <td colSpan={4} className="muted">
                No API products yet. A product names the workflows a partner may call.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

/** Plans: default rate limits (and token budgets) per product. */
export function PlansTable({ items, productNames, readOnly, busy, onNew, onEdit }: SectionProps<PlanRecord> & { productNames: ReadonlyMap<string, string> }) {
  return (
    <section aria-labelledby="plans-title" className="partners__section">
      <SectionHead id="plans-title" title="Plans" what="plan" readOnly={readOnly} busy={busy} onNew={onNew} />
      <table className="workflows partners">
        <thead>
          <tr>
            <th scope="col">Plan</th>
            <th scope="col">Limits per product</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((p) => {
            const limits = Object.entries(p.limits);
            return (
              <tr key={p.id} aria-label={`Plan ${p.id}`}>
                <td>
                  <strong>{p.name}</strong>
                  <div className="muted small">{p.id}</div>
                </td>
                <td>{limits.length === 0 ? <span className="muted">no limits</span> : limits.map(([id, l]) => `${productNames.get(id) ?? id}: ${limitText(l)}`).join('; ')}</td>
                <td className="partners__actions">
                  <button type="button" disabled={readOnly !== undefined || busy} title={readOnly} aria-description={readOnly} onClick={() => onEdit(p)}>
                    Edit
                  </button>
                </td>
              </tr>
            );
          })}
          {items.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No plans yet. A plan gives rate limits per product.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

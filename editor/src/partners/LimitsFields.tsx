import type { ProductRecord } from '../../../shared/schema/partners.ts';
import { errorAt, type FieldErrors } from './form.ts';

/** A rate limit as typed: text until checked, so a half-typed number is not lost. */
export type LimitRow = { limit: string; window: string };
export type LimitRows = Record<string, LimitRow>;

/** The rows of a stored limits record, by product. */
export const limitRows = (limits: Record<string, { limit: number; window: string }> | undefined): LimitRows =>
  Object.fromEntries(Object.entries(limits ?? {}).map(([product, l]) => [product, { limit: String(l.limit), window: l.window }]));

/** The limits as the API takes them: products with a typed limit; a limit that is not a number is kept as typed, for the check to name. */
export const limitsOf = (rows: LimitRows): Record<string, { limit: number | string; window: string }> =>
  Object.fromEntries(
    Object.entries(rows)
      .filter(([, r]) => r.limit.trim() !== '')
      .map(([product, r]) => [product, { limit: /^\d+$/.test(r.limit.trim()) ? Number(r.limit) : r.limit, window: r.window.trim() || '1m' }]),
  );

/**
 * Rate limits per API product: a number of requests per window for each product, or none.
 * Plans give the defaults; a partner's overrides replace its plan's limit for a product.
 */
export function LimitsFields({ id, legend, hint, rows, products, errors, onChange }: { id: string; legend: string; hint: string; rows: LimitRows; products: readonly ProductRecord[]; errors: FieldErrors; onChange(rows: LimitRows): void }) {
  const set = (product: string, row: LimitRow) => onChange({ ...rows, [product]: row });
  return (
    <fieldset className="field field--group limits">
      <legend>{legend}</legend>
      <p className="field__desc">{hint}</p>
      {products.length === 0 && <p className="muted small">No API products yet: create one first.</p>}
      {products.map((p) => {
        const row = rows[p.id] ?? { limit: '', window: '1m' };
        const limitError = errorAt(errors, `limits.${p.id}.limit`) ?? (errors[`limits.${p.id}`] && !errorAt(errors, `limits.${p.id}.window`) ? errors[`limits.${p.id}`] : undefined);
        const windowError = errorAt(errors, `limits.${p.id}.window`);
        const helpId = `${id}-${p.id}-help`;
        return (
          <div key={p.id} className="limits__row">
            <span className="limits__product" title={p.id}>
              {p.name}
            </span>
            <input
              type="text"
              inputMode="numeric"
              aria-label={`${p.name}: requests`}
              placeholder="no limit"
              value={row.limit}
              aria-invalid={limitError ? true : undefined}
              aria-describedby={limitError || windowError ? helpId : undefined}
              onChange={(e) => set(p.id, { ...row, limit: e.target.value })}
            />
            <span className="muted small">per</span>
            <input type="text" aria-label={`${p.name}: window`} value={row.window} aria-invalid={windowError ? true : undefined} aria-describedby={limitError || windowError ? helpId : undefined} onChange={(e) => set(p.id, { ...row, window: e.target.value })} />
            {(limitError || windowError) && (
              <p id={helpId} className="field__error limits__error">
                {limitError ? `The limit of ${p.name} ${limitError}.` : `The window of ${p.name} ${windowError}.`}
              </p>
            )}
          </div>
        );
      })}
    </fieldset>
  );
}

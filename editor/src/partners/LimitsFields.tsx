import type { PlanLimit, ProductRecord } from '../../../shared/schema/partners.ts';
import { errorAt, type FieldErrors } from './form.ts';

/** A rate limit as typed: text until checked, so a half-typed number is not lost; `tokens` and `tokenWindow` are its token budget. */
export type LimitRow = { limit: string; window: string; tokens: string; tokenWindow: string; /** Comma-separated model names or prefixes (gpt-4o*). */ models: string };
export type LimitRows = Record<string, LimitRow>;
/** A limit as the API takes it, with a limit that is not a number kept as typed, for the check to name. */
type TypedLimit = { limit?: number | string; window: string; tokens?: { limit: number | string; window: string }; models?: string[] };

const EMPTY_ROW: LimitRow = { limit: '', window: '1m', tokens: '', tokenWindow: '1m', models: '' };

/** The rows of a stored limits record, by product, token budgets included. */
export const limitRows = (limits: Record<string, PlanLimit> | undefined): LimitRows =>
  Object.fromEntries(Object.entries(limits ?? {}).map(([product, l]) => [product, { limit: String(l.limit), window: l.window, tokens: l.tokens ? String(l.tokens.limit) : '', tokenWindow: l.tokens?.window ?? '1m', models: (l.models ?? []).join(', ') }]));

/** A limit in words: "5 per 1m, 100000 tokens per 1h", or short, as overrides are listed: "5/1m, 100000 tokens/1h". */
export const limitText = (l: PlanLimit, short = false) => {
  const per = short ? '/' : ' per ';
  return `${l.limit}${per}${l.window}${l.tokens ? `, ${l.tokens.limit} tokens${per}${l.tokens.window}` : ''}${l.models ? `, models ${l.models.join(' ')}` : ''}`;
};

/** The models typed, comma- or space-separated. */
const modelList = (text: string) => text.split(/[\s,]+/).filter(Boolean);

const typedNumber = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text) : text);

/**
 * The limits as the API takes them: products with a typed limit, token budget or models. A token
 * budget or models without a request limit are sent without `limit`, so the check says the limit
 * is required.
 */
export const limitsOf = (rows: LimitRows): Record<string, TypedLimit> =>
  Object.fromEntries(
    Object.entries(rows)
      .filter(([, r]) => r.limit.trim() !== '' || r.tokens.trim() !== '' || modelList(r.models).length > 0)
      .map(([product, r]) => [
        product,
        {
          ...(r.limit.trim() !== '' ? { limit: typedNumber(r.limit) } : {}),
          window: r.window.trim() || '1m',
          ...(r.tokens.trim() !== '' ? { tokens: { limit: typedNumber(r.tokens), window: r.tokenWindow.trim() || '1m' } } : {}),
          ...(modelList(r.models).length > 0 ? { models: modelList(r.models) } : {}),
        },
      ]),
  );

const UNITS: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
/** "must be between 1000ms and 2678400000ms" as "must be between 1s and 31d". */
const readableDurations = (message: string) =>
  message.replace(/\b(\d+)ms\b/g, (text, digits: string) => {
    const ms = Number(digits);
    const unit = UNITS.find(([, size]) => ms >= size && ms % size === 0);
    return unit ? `${ms / unit[1]}${unit[0]}` : text;
  });

/**
 * Rate limits per API product: a number of requests per window for each product, or none, and
 * optionally a token budget (LLM tokens per window, for rate-limit nodes with a cost). Plans give
 * the defaults; a partner's overrides replace its plan's limit for a product, token budget included.
 */
export function LimitsFields({ id, legend, hint, rows, products, errors, onChange }: { id: string; legend: string; hint: string; rows: LimitRows; products: readonly ProductRecord[]; errors: FieldErrors; onChange(rows: LimitRows): void }) {
  const set = (product: string, row: LimitRow) => onChange({ ...rows, [product]: row });
  return (
    <fieldset className="field field--group limits">
      <legend>{legend}</legend>
      <p className="field__desc">{hint}</p>
      <p className="field__desc">A token budget (LLM tokens per window, 1s to 31d) is what rate-limit nodes with a cost count; models (names, or prefixes such as gpt-4o*) narrow what the product's LLM proxies serve. Both need a request limit for the same product.</p>
      {products.length === 0 && <p className="muted small">No API products yet: create one first.</p>}
      {products.map((p) => {
        const row = rows[p.id] ?? EMPTY_ROW;
        const at = (field: string) => errorAt(errors, `limits.${p.id}.${field}`);
        const fields = { limit: at('limit'), window: at('window'), tokens: at('tokens.limit') ?? errors[`limits.${p.id}.tokens`], tokenWindow: at('tokens.window'), models: at('models') };
        // a problem with the product's entry itself (an unknown product, a field the API does not know) is shown at its requests
        if (!Object.values(fields).some(Boolean)) fields.limit = errorAt(errors, `limits.${p.id}`);
        const helpId = (field: string) => `${id}-${p.id}-${field}-help`;
        const describedBy = (field: keyof typeof fields) => (fields[field] ? helpId(field) : undefined);
        const lines: Array<[keyof typeof fields, string | undefined]> = [
          ['limit', fields.limit && (fields.limit === 'is required' && row.limit.trim() === '' ? `The token budget or models of ${p.name} need a request limit too: type its requests per window.` : `The limit of ${p.name} ${readableDurations(fields.limit)}.`)],
          ['window', fields.window && `The window of ${p.name} ${readableDurations(fields.window)}.`],
          ['tokens', fields.tokens && `The token budget of ${p.name} ${readableDurations(fields.tokens)}.`],
          ['tokenWindow', fields.tokenWindow && `The token window of ${p.name} ${readableDurations(fields.tokenWindow)}.`],
          ['models', fields.models && `The models of ${p.name}: ${fields.models}.`],
        ];
        return (
          <div key={p.id} className="limits__row">
            <span className="limits__product" title={p.id}>
              {p.name}
            </span>
            <span className="limits__kind muted small" aria-hidden="true">
              requests
            </span>
            <input type="text" inputMode="numeric" aria-label={`${p.name}: requests`} placeholder="no limit" value={row.limit} aria-invalid={fields.limit ? true : undefined} aria-describedby={describedBy('limit')} onChange={(e) => set(p.id, { ...row, limit: e.target.value })} />
            <span className="muted small">per</span>
            <input type="text" aria-label={`${p.name}: window`} value={row.window} aria-invalid={fields.window ? true : undefined} aria-describedby={describedBy('window')} onChange={(e) => set(p.id, { ...row, window: e.target.value })} />
            <span className="limits__kind limits__kind--tokens muted small" aria-hidden="true">
              tokens
            </span>
            <input type="text" inputMode="numeric" aria-label={`${p.name}: tokens`} placeholder="no token budget" value={row.tokens} aria-invalid={fields.tokens ? true : undefined} aria-describedby={describedBy('tokens')} onChange={(e) => set(p.id, { ...row, tokens: e.target.value })} />
            <span className="muted small">per</span>
            <input type="text" aria-label={`${p.name}: token window`} value={row.tokenWindow} aria-invalid={fields.tokenWindow ? true : undefined} aria-describedby={describedBy('tokenWindow')} onChange={(e) => set(p.id, { ...row, tokenWindow: e.target.value })} />
            <span className="limits__kind limits__kind--models muted small" aria-hidden="true">
              models
            </span>
            <input type="text" className="limits__models" aria-label={`${p.name}: models`} placeholder="any the workflow allows" value={row.models} aria-invalid={fields.models ? true : undefined} aria-describedby={describedBy('models')} onChange={(e) => set(p.id, { ...row, models: e.target.value })} />
            {lines.map(([field, line]) =>
              line ? (
                <p key={field} id={helpId(field)} className="field__error limits__error">
                  {line}
                </p>
              ) : null,
            )}
          </div>
        );
      })}
    </fieldset>
  );
}

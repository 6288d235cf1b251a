import { useState } from 'react';
import { partnerFieldsSchema, type PartnerView, type PlanRecord, type ProductRecord } from '../../../shared/schema/partners.ts';
import { useSessionContext } from '../editor-context.ts';
import { ChipsField, sentence, TextField } from './fields.tsx';
import { FormDialog, useForm } from './FormDialog.tsx';
import { check, checkId, errorAt } from './form.ts';
import { limitRows, LimitsFields, limitsOf } from './LimitsFields.tsx';

export interface PartnerDialogProps {
  /** The partner to edit; a new one when absent. */
  partner?: PartnerView | undefined;
  products: readonly ProductRecord[];
  plans: readonly PlanRecord[];
  /** The ids of the partners there are. */
  taken: readonly string[];
  onClose(): void;
  onSaved(partner: PartnerView): void;
}

/**
 * Registers a partner or changes one: name, contacts, plan, subscribed products, OAuth client ids
 * and limit overrides per product. Checked with the API's own schema as it is typed; what the API
 * refuses (an unknown plan, a client id another partner has) is shown at its field.
 */
export function PartnerDialog({ partner, products, plans, taken, onClose, onSaved }: PartnerDialogProps) {
  const { api } = useSessionContext();
  const [id, setId] = useState(partner?.id ?? '');
  const [name, setName] = useState(partner?.name ?? '');
  const [contacts, setContacts] = useState<string[]>(partner?.contacts ?? []);
  const [plan, setPlan] = useState(partner?.plan ?? '');
  const [subscribed, setSubscribed] = useState<string[]>(partner?.products ?? []);
  const [clientIds, setClientIds] = useState<string[]>(partner?.clientIds ?? []);
  const [limits, setLimits] = useState(limitRows(partner?.limits));

  const fields = { name, contacts, ...(plan ? { plan } : {}), products: subscribed, clientIds, limits: limitsOf(limits) };
  const form = useForm({ ...(partner ? {} : checkId(id, taken)), ...check(partnerFieldsSchema, fields) }, id !== '');
  const shown = form.shown;
  const where = partner ? `partner-${partner.id}` : 'partner-new';
  const save = () =>
    void form.submit(async () => {
      const body = partnerFieldsSchema.parse(fields);
      onSaved(partner ? await api.updatePartner(partner.id, body) : await api.createPartner({ id, ...body }));
    });

  return (
    <FormDialog title={partner ? `Edit partner ${partner.id}` : 'New partner'} label={partner ? 'Save partner' : 'Create partner'} busy={form.busy} message={form.message} onClose={onClose} save={save}>
      {!partner && <TextField id={`${where}-id`} label="Partner id" value={id} onChange={(v) => setId(v.toLowerCase())} error={shown.id} hint="Stable and url-safe, e.g. acme. It cannot change later." autoFocus />}
      <TextField id={`${where}-name`} label="Name" value={name} onChange={setName} error={shown.name} placeholder="Acme Corp" autoFocus={partner !== undefined} />
      <ChipsField id={`${where}-contacts`} label="Contacts" item="contact" values={contacts} onChange={setContacts} error={errorAt(shown, 'contacts')} hint="Who to call about this partner (e-mail addresses)." />
      <div className="field">
        <label htmlFor={`${where}-plan`}>Plan</label>
        <select id={`${where}-plan`} value={plan} onChange={(e) => setPlan(e.target.value)} aria-invalid={shown.plan ? true : undefined} aria-describedby={`${where}-plan-help`}>
          <option value="">no plan</option>
          {plans.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} ({p.id})
            </option>
          ))}
        </select>
        <p id={`${where}-plan-help`} className={shown.plan ? 'field__error' : 'field__desc'}>
          {sentence('Plan', shown.plan) ?? 'Its limits apply where a rate-limit node uses the plan.'}
        </p>
      </div>
      <fieldset className="field field--group">
        <legend>Products</legend>
        {products.length === 0 && <p className="muted small">No API products yet.</p>}
        <div className="checks">
          {products.map((p) => (
            <label key={p.id} className="check check--text">
              <input type="checkbox" checked={subscribed.includes(p.id)} onChange={(e) => setSubscribed(e.target.checked ? [...subscribed, p.id] : subscribed.filter((x) => x !== p.id))} />
              {p.name}
            </label>
          ))}
        </div>
        {errorAt(shown, 'products') && <p className="field__error">{sentence('A product', errorAt(shown, 'products'))}</p>}
        <p className="field__desc">The partner may call the workflows of these products.</p>
      </fieldset>
      <ChipsField id={`${where}-clients`} label="OAuth client ids" item="client id" values={clientIds} onChange={setClientIds} error={errorAt(shown, 'clientIds')} hint="The JWT azp or client_id values that identify this partner in tokens." />
      <LimitsFields id={`${where}-limits`} legend="Limit overrides" hint="Replace the plan's limit for a product, token budget included: an override without tokens leaves the partner no token budget for it. Leave empty to keep the plan's." rows={limits} products={products} errors={shown} onChange={setLimits} />
    </FormDialog>
  );
}

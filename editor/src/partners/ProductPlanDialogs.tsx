import { useState } from 'react';
import { planFieldsSchema, productFieldsSchema, type PlanRecord, type ProductRecord } from '../../../shared/schema/partners.ts';
import { useSessionContext } from '../editor-context.ts';
import { sentence, TextField } from './fields.tsx';
import { FormDialog, useForm } from './FormDialog.tsx';
import { check, checkId, errorAt } from './form.ts';
import { limitRows, LimitsFields, limitsOf } from './LimitsFields.tsx';

/** An API product: a named set of workflows partners subscribe to. */
export function ProductDialog({ product, taken, workflows, onClose, onSaved }: { product?: ProductRecord | undefined; taken: readonly string[]; workflows: ReadonlyArray<{ id: string; name?: string | undefined }>; onClose(): void; onSaved(): void }) {
  const { api } = useSessionContext();
  const [id, setId] = useState(product?.id ?? '');
  const [name, setName] = useState(product?.name ?? '');
  const [description, setDescription] = useState(product?.description ?? '');
  const [included, setIncluded] = useState<string[]>(product?.workflows ?? []);
  const fields = { name, description, workflows: included };
  const form = useForm({ ...(product ? {} : checkId(id, taken)), ...check(productFieldsSchema, fields) }, id !== '');
  const where = product ? `product-${product.id}` : 'product-new';
  const workflowsError = errorAt(form.shown, 'workflows');
  return (
    <FormDialog
      title={product ? `Edit product ${product.id}` : 'New API product'}
      label={product ? 'Save product' : 'Create product'}
      busy={form.busy}
      message={form.message}
      onClose={onClose}
      save={() => void form.submit(async () => {
        await api.putProduct(product?.id ?? id, productFieldsSchema.parse(fields));
        onSaved();
      })}
    >
      {!product && <TextField id={`${where}-id`} label="Product id" value={id} onChange={(v) => setId(v.toLowerCase())} error={form.shown.id} hint="Stable and url-safe, e.g. orders-api." autoFocus />}
      <TextField id={`${where}-name`} label="Name" value={name} onChange={setName} error={form.shown.name} placeholder="Orders API" autoFocus={product !== undefined} />
      <div className="field">
        <label htmlFor={`${where}-description`}>Description</label>
        <textarea id={`${where}-description`} value={description} rows={2} onChange={(e) => setDescription(e.target.value)} aria-invalid={form.shown.description ? true : undefined} aria-describedby={form.shown.description ? `${where}-description-help` : undefined} />
        {form.shown.description && <p id={`${where}-description-help`} className="field__error">{sentence('Description', form.shown.description)}</p>}
      </div>
      <fieldset className="field field--group">
        <legend>Workflows</legend>
        {workflows.length === 0 && <p className="muted small">No workflows yet.</p>}
        <div className="checks">
          {workflows.map((w) => (
            <label key={w.id} className="check check--text">
              <input type="checkbox" checked={included.includes(w.id)} onChange={(e) => setIncluded(e.target.checked ? [...included, w.id] : included.filter((x) => x !== w.id))} />
              {w.name && w.name !== w.id ? `${w.name} (${w.id})` : w.id}
            </label>
          ))}
        </div>
        {workflowsError && <p className="field__error">{sentence('A workflow', workflowsError)}</p>}
        <p className="field__desc">Partners subscribed to this product may call these workflows.</p>
      </fieldset>
    </FormDialog>
  );
}

/** A plan: default rate limits per product for the partners on it. */
export function PlanDialog({ plan, taken, products, onClose, onSaved }: { plan?: PlanRecord | undefined; taken: readonly string[]; products: readonly ProductRecord[]; onClose(): void; onSaved(): void }) {
  const { api } = useSessionContext();
  const [id, setId] = useState(plan?.id ?? '');
  const [name, setName] = useState(plan?.name ?? '');
  const [limits, setLimits] = useState(limitRows(plan?.limits));
  const fields = { name, limits: limitsOf(limits) };
  const form = useForm({ ...(plan ? {} : checkId(id, taken)), ...check(planFieldsSchema, fields) }, id !== '');
  const where = plan ? `plan-${plan.id}` : 'plan-new';
  return (
    <FormDialog
      title={plan ? `Edit plan ${plan.id}` : 'New plan'}
      label={plan ? 'Save plan' : 'Create plan'}
      busy={form.busy}
      message={form.message}
      onClose={onClose}
      save={() => void form.submit(async () => {
        await api.putPlan(plan?.id ?? id, planFieldsSchema.parse(fields));
        onSaved();
      })}
    >
      {!plan && <TextField id={`${where}-id`} label="Plan id" value={id} onChange={(v) => setId(v.toLowerCase())} error={form.shown.id} hint="Stable and url-safe, e.g. gold." autoFocus />}
      <TextField id={`${where}-name`} label="Name" value={name} onChange={setName} error={form.shown.name} placeholder="Gold" autoFocus={plan !== undefined} />
      <LimitsFields id={`${where}-limits`} legend="Limits per product" hint="Requests per window for each product, where a rate-limit node uses the plan; empty means no limit." rows={limits} products={products} errors={form.shown} onChange={setLimits} />
    </FormDialog>
  );
}

import { useEffect, useRef, useState } from 'react';
import type { PartnerView, PlanRecord, ProductRecord } from '../../../shared/schema/partners.ts';
import { describeError, type PartnerStats } from '../api/client.ts';
import { can } from '../api/roles.ts';
import { AskDialog } from '../components/Dialog.tsx';
import { useSessionContext } from '../editor-context.ts';
import { useAsk } from '../hooks/useAsk.ts';
import { useResource } from '../hooks/useResource.ts';
import { AddCertificateDialog, NewSecretDialog, type CreatedSecret } from './CredentialDialogs.tsx';
import { CreateKeyDialog, NewKeyDialog, type CreatedKey } from './KeyDialogs.tsx';
import { certificateValue, type CredentialActions } from './PartnerCredentials.tsx';
import { PartnerDialog } from './PartnerDialog.tsx';
import { PartnerRow, type PartnerActions } from './PartnerRow.tsx';
import { PlanDialog, ProductDialog } from './ProductPlanDialogs.tsx';
import { PlansTable, ProductsTable } from './ProductsPlans.tsx';
import './partners.css';

const STATS_WINDOW = '1h';
const noPublish = (role: string) => `The ${role} role cannot change partners, products or plans (needs publisher or admin)`;

/** The dialog open over the page, if any. */
type Open =
  | { what: 'partner'; partner?: PartnerView | undefined }
  | { what: 'product'; product?: ProductRecord | undefined }
  | { what: 'plan'; plan?: PlanRecord | undefined }
  | { what: 'key'; partner: PartnerView }
  | { what: 'certificate'; partner: PartnerView };

/**
 * Partners, API products and plans, managed through the admin API (every change audited there):
 * publishers and admins register and edit partners (plan, products, client ids, limit overrides),
 * products (their workflows) and plans (limits per product); create keys with scopes and expiry
 * (shown once), rotate and revoke keys, suspend and reactivate partners, with a reason; add and
 * remove client certificates (a pasted PEM's fingerprint computed in the browser) and create,
 * rotate and revoke HMAC secrets (shown once). Viewers and editors see the same page read-only,
 * told why, and no credential buttons at all.
 */
export function PartnersPage() {
  const { api, identity } = useSessionContext();
  const { resource, reload } = useResource(() => Promise.all([api.partners(), api.products(), api.plans(), api.workflows()]), 'partners');
  const [stats, setStats] = useState<Record<string, PartnerStats | undefined>>({});
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [open, setOpen] = useState<Open | undefined>();
  const [created, setCreated] = useState<CreatedKey | undefined>();
  const [secret, setSecret] = useState<CreatedSecret | undefined>();
  /** The button that asked for the secret on show: the focus goes back to it when the secret is put away. */
  const secretOpener = useRef<Element | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const ask = useAsk();
  const readOnly = can(identity.role, 'publish') ? undefined : noPublish(identity.role);

  const ready = resource.status === 'ready' ? resource.value : undefined;
  const partners = ready?.[0].partners ?? [];
  const products = ready?.[1].products ?? [];
  const plans = ready?.[2].plans ?? [];
  const workflows = ready?.[3].workflows ?? [];
  const productById = new Map(products.map((p) => [p.id, p]));
  const productNames = new Map(products.map((p) => [p.id, p.name]));
  const planNames = new Map(plans.map((p) => [p.id, p.name]));
  const workflowNames = new Map(workflows.map((w) => [w.id, w.name ?? w.id]));

  useEffect(() => {
    let live = true;
    // metrics may be off (404): the column then says so, the page still works
    Promise.all(partners.map((p) => api.partnerStats(p.id, STATS_WINDOW).then((s) => [p.id, s] as const, () => [p.id, undefined] as const))).then((pairs) => live && setStats(Object.fromEntries(pairs)));
    return () => {
      live = false;
    };
    // oxlint-disable-next-line react/exhaustive-deps -- `partners` is made anew each render from `resource`: the stats are read once per load
  }, [resource]);

  const act = (label: string, action: () => Promise<unknown>, after?: (value: unknown) => void) => {
    setBusy(label);
    setError(undefined);
    action().then(
      (value) => {
        setBusy(undefined);
        after?.(value);
        reload();
      },
      (e: unknown) => {
        setBusy(undefined);
        setError(describeError(e));
      },
    );
  };
  const reasonInput = { label: 'Reason (kept in the audit log)', value: '' };

  const actions: PartnerActions & CredentialActions = {
    toggleCredentials: (p) => setExpanded((open) => new Set(open.has(p.id) ? [...open].filter((id) => id !== p.id) : [...open, p.id])),
    addCertificate: (partner) => setOpen({ what: 'certificate', partner }),
    removeCertificate: (p, c) =>
      void ask
        .prompt({ title: `Remove certificate ${c.id} of ${p.name}?`, text: `Requests of ${p.id} with the certificate matched by ${c.match} ${certificateValue(c)} are refused (401) from the next one on.`, confirm: 'Remove certificate', danger: true, input: reasonInput })
        .then((reason) => reason !== undefined && act('certificate', () => api.removeCertificate(p.id, c.id, reason))),
    createSecret: (p) => {
      secretOpener.current = document.activeElement;
      act('secret', () => api.createHmacSecret(p.id), (value) => setSecret(value as CreatedSecret));
    },
    rotateSecret: (p, id) => {
      secretOpener.current = document.activeElement;
      void ask
        .confirm({ title: `Rotate HMAC secret ${id} of ${p.name}?`, text: `A new secret is made and shown once. ${id} keeps working for 24 hours, then is refused: hand the partner the new one before then.`, confirm: 'Rotate secret' })
        .then((yes) => yes && act('secret', () => api.rotateHmacSecret(p.id, id), (value) => setSecret(value as CreatedSecret)));
    },
    revokeSecret: (p, id) =>
      void ask
        .prompt({ title: `Revoke HMAC secret ${id} of ${p.name}?`, text: `Requests of ${p.id} signed with ${id} are refused from the next one on. This cannot be undone.`, confirm: 'Revoke secret', danger: true, input: reasonInput })
        .then((reason) => reason !== undefined && act('secret', () => api.revokeHmacSecret(p.id, id, reason))),
    edit: (partner) => setOpen({ what: 'partner', partner }),
    createKey: (partner) => setOpen({ what: 'key', partner }),
    rotate: (p, key) => act('rotate', () => api.rotateKey(p.id, key), (value) => setCreated(value as CreatedKey)),
    revoke: (p, key) =>
      void ask
        .prompt({ title: `Revoke key ${key} of ${p.name}?`, text: `Requests of ${p.id} with this key are refused from the next one on. This cannot be undone.`, confirm: 'Revoke key', danger: true, input: reasonInput })
        .then((reason) => reason !== undefined && act('revoke', () => api.revokeKey(p.id, key, reason))),
    setStatus: (p, action) =>
      void ask
        .prompt(
          action === 'suspend'
            ? { title: `Suspend ${p.name}?`, text: `Every request of ${p.id} is refused within a second, on every gateway, until it is reactivated.`, confirm: 'Suspend', danger: true, input: reasonInput }
            : { title: `Reactivate ${p.name}?`, text: `Requests of ${p.id} are accepted again with its keys.`, confirm: 'Reactivate', input: reasonInput },
        )
        .then((reason) => reason !== undefined && act('status', () => api.setPartnerStatus(p.id, action, reason))),
  };
  const saved = () => {
    setOpen(undefined);
    reload();
  };

  return (
    <main className="page partners-page">
      <div className="page__head">
        <h1>Partners</h1>
        <div className="page__actions">
          <button type="button" onClick={reload}>
            Refresh
          </button>
          <button type="button" className="primary" disabled={readOnly !== undefined || busy !== undefined || !ready} title={readOnly} aria-description={readOnly} onClick={() => setOpen({ what: 'partner' })}>
            New partner
          </button>
        </div>
      </div>
      {readOnly && (
        <div className="banner banner--readonly" role="note">
          <strong>Read-only.</strong> {readOnly}.
        </div>
      )}
      {error && (
        <p className="field__error" role="alert">
          {error}
        </p>
      )}
      {resource.status === 'loading' && <p className="loading">Loading partners…</p>}
      {resource.status === 'error' && (
        <p className="field__error" role="alert">
          {describeError(resource.error)}
        </p>
      )}
      {ready && (
        <>
          <table className="workflows partners">
            <caption className="sr-only">Partners</caption>
            <thead>
              <tr>
                <th scope="col">Partner</th>
                <th scope="col">Status</th>
                <th scope="col">Plan</th>
                <th scope="col">Products</th>
                <th scope="col">API keys</th>
                <th scope="col">Last hour</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {partners.map((p) => (
                <PartnerRow key={p.id} partner={p} stats={stats[p.id]} products={productById} planNames={planNames} readOnly={readOnly} busy={busy !== undefined} actions={actions} expanded={expanded.has(p.id)} />
              ))}
              {partners.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No partners yet.{readOnly ? '' : ' Create API products and plans below, then register a partner with New partner.'}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <ProductsTable items={products} workflowNames={workflowNames} partnersOf={(id) => partners.filter((p) => p.products.includes(id)).map((p) => p.name)} readOnly={readOnly} busy={busy !== undefined} onNew={() => setOpen({ what: 'product' })} onEdit={(product) => setOpen({ what: 'product', product })} />
          <PlansTable items={plans} productNames={productNames} readOnly={readOnly} busy={busy !== undefined} onNew={() => setOpen({ what: 'plan' })} onEdit={(plan) => setOpen({ what: 'plan', plan })} />
        </>
      )}
      {open?.what === 'partner' && <PartnerDialog partner={open.partner} products={products} plans={plans} taken={partners.map((p) => p.id)} onClose={() => setOpen(undefined)} onSaved={saved} />}
      {open?.what === 'product' && <ProductDialog product={open.product} taken={products.map((p) => p.id)} workflows={workflows} onClose={() => setOpen(undefined)} onSaved={saved} />}
      {open?.what === 'plan' && <PlanDialog plan={open.plan} taken={plans.map((p) => p.id)} products={products} onClose={() => setOpen(undefined)} onSaved={saved} />}
      {open?.what === 'key' && (
        <CreateKeyDialog
          partner={open.partner}
          onClose={() => setOpen(undefined)}
          onCreated={(key) => {
            setOpen(undefined);
            setCreated(key);
            reload();
          }}
        />
      )}
      <NewKeyDialog created={created} onClose={() => setCreated(undefined)} />
      {open?.what === 'certificate' && <AddCertificateDialog partner={open.partner} partners={partners} onClose={() => setOpen(undefined)} onAdded={saved} />}
      <NewSecretDialog
        created={secret}
        onClose={() => {
          setSecret(undefined);
          const opener = secretOpener.current;
          // its button was disabled while the secret was made, so the dialog cannot give the focus back itself
          setTimeout(() => opener instanceof HTMLElement && opener.isConnected && opener.focus(), 0);
        }}
      />
      <AskDialog question={ask.question} onAnswer={ask.answer} />
    </main>
  );
}

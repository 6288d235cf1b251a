/**
 * A partner's client certificates and HMAC secrets on the partners page, in a real Chromium
 * against a real gateway. A publisher pastes a partner's PEM certificate (made by openssl for the
 * test): the page computes its SHA-256 fingerprint in the browser, shows it before saving, lists it
 * once saved, and the gateway then maps that certificate (from a trusted TLS-terminating proxy's
 * header) to the partner, until it is removed with a reason. An HMAC secret is shown exactly once;
 * a request signed with it passes an hmac-verify workflow; rotation shows the new one once and both
 * work; revocation refuses the old one. An editor sees the same lists with no button to change
 * them, and the API refuses the editor anyway. At 1024 px the page does not scroll sideways,
 * the dialogs keep focus and answer the keyboard, and axe finds no serious problem.
 */
import { createHmac, X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalString } from '../../engine/kinds/hmac-verify.ts';
import { createTestPki, type TestCertificate, type TestPki } from '../helpers/certificates.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { workflow, type NodeDoc } from '../helpers/workflow.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, screenshot, signIn as signInAt, watchErrors } from './support/browser.ts';

const TOKENS = { publisher: 'publisher-token-0123456789', editor: 'editor-token-0123456789', admin: 'admin-token-0123456789' };
/** The TLS-terminating proxy's address: the only peer whose certificate header the gateway reads. */
const PROXY = '127.0.0.2';
const CERT_HEADER = 'X-Client-Cert';
const who: NodeDoc = { id: 'who', kind: 'respond', config: { bodyExpression: '{ "partner": partner }' } };

describe.runIf(chromiumAvailable())('client certificates and HMAC secrets on the partners page', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let pki: TestPki;
  let acmeCert: TestCertificate;
  let certificateId = '';

  const admin = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await gateway.fetch(`/admin/api${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, text: await res.text() };
  };
  const applied = async () => gateway.sluice.registry.whenApplied((await gateway.sluice.store.state()).revision);

  /** A GET of /mtls as the proxy passes a client's certificate on (nginx's $ssl_client_escaped_cert). */
  const viaProxy = (cert: TestCertificate) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(new URL('/mtls', gateway.url), { agent: false, localAddress: PROXY, headers: { [CERT_HEADER]: encodeURIComponent(cert.cert) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });

  let signed = 0;
  /** A POST of /hooks signed as the README tells a partner to sign (a new body each time: no replay). */
  const signedCall = async (keyId: string, secret: string) => {
    const body = JSON.stringify({ event: 'order.paid', n: ++signed });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = createHmac('sha256', secret).update(canonicalString('POST', '/hooks', ts, Buffer.from(body))).digest('hex');
    const res = await gateway.fetch('/hooks', { method: 'POST', headers: { signature: `keyId=${keyId},ts=${ts},sig=${sig}`, 'content-type': 'application/json' }, body });
    return { status: res.status, body: await res.text() };
  };

  beforeAll(async () => {
    pki = createTestPki();
    acmeCert = pki.issue('acme', { cn: 'acme-client', sans: ['DNS:acme.partners.example'] });
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([
      startTestGateway({
        demo: false,
        workflows: [
          workflow('hooks', { path: '/hooks', methods: ['POST'] }, [{ id: 'sig', kind: 'hmac-verify' }, who], [['sig', 'ok', 'who']]),
          workflow('mtls', { path: '/mtls' }, [{ id: 'cert', kind: 'client-cert' }, who], [['cert', 'ok', 'who']]),
        ],
        settings: {
          SLUICE_ADMIN_TOKENS: `pat:publisher:${TOKENS.publisher},eve:editor:${TOKENS.editor},ada:admin:${TOKENS.admin}`,
          SLUICE_TRUST_PROXY: PROXY,
          SLUICE_TLS_CLIENT_CA: pki.ca.certFile,
          SLUICE_TLS_CLIENT_CERT_HEADER: CERT_HEADER,
        },
      }),
      launchChromium(),
    ]);
    for (const [id, name] of [['acme', 'Acme Corp'], ['globex', 'Globex']]) expect((await admin(TOKENS.publisher, 'POST', '/partners', { id, name })).status).toBe(201);
    await openPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    pki?.close();
  });

  async function openPage(viewport = { width: 1440, height: 900 }) {
    const context = await browser.newContext({ viewport });
    page = await context.newPage();
    errors = watchErrors(page);
  }
  const focusedInDialog = () => page.evaluate(() => document.activeElement?.closest('dialog[open]') !== null && document.activeElement !== null);
  const credentialsOf = (id: string) => page.getByRole('row', { name: `Credentials of ${id}` });
  async function openCredentials(id: string) {
    await page.goto(`${gateway.url}/editor/#/partners`);
    const toggle = page.getByRole('row', { name: `Partner ${id}` }).getByRole('button', { name: /certificates?, \d+ HMAC secrets?/ });
    await page.getByRole('row', { name: `Partner ${id}` }).waitFor();
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click(); // the page keeps it open across a hash navigation
    await expect.poll(() => toggle.getAttribute('aria-expanded')).toBe('true');
    await credentialsOf(id).waitFor();
    return credentialsOf(id);
  }

  it('a publisher adds a certificate by its pasted PEM, the gateway maps it to the partner, and removing it (with a reason) stops that', async () => {
    await signInAt(page, gateway.url, TOKENS.publisher);
    const acme = await openCredentials('acme');
    await expect.poll(() => acme.textContent()).toMatch(/No client certificates.*No HMAC secrets/);
    // registered by no partner yet: the gateway verifies it against the CA, but it identifies no one
    expect((await viaProxy(acmeCert)).status).toBe(401);

    await acme.getByRole('button', { name: 'Add certificate for Acme Corp' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a client certificate for Acme Corp' });
    await dialog.waitFor();
    expect(await focusedInDialog()).toBe(true);
    await expect.poll(() => dialog.getByLabel('SHA-256 fingerprint').first().isChecked()).toBe(true);
    const pem = dialog.getByLabel('Certificate (PEM)');

    // a private key pasted by mistake is refused at once, in words, and nothing is sent
    await pem.fill(acmeCert.key);
    await dialog.getByText(/This is a private key: it must never leave the partner/).waitFor();
    await expect.poll(() => pem.getAttribute('aria-invalid')).toBe('true');
    await dialog.getByRole('button', { name: 'Add certificate' }).click();
    await dialog.getByText('Fix the field marked in red, then add again.').waitFor();

    await pem.fill(acmeCert.cert);
    const fingerprint = dialog.getByRole('textbox', { name: 'SHA-256 fingerprint' });
    const expected = new X509Certificate(acmeCert.cert).fingerprint256; // AB:CD:… as openssl prints it
    await expect.poll(() => fingerprint.inputValue()).toBe(expected);
    expect(await fingerprint.getAttribute('readonly')).not.toBeNull();
    await expect.poll(() => dialog.textContent()).toMatch(/Read in your browser:.*CN acme-client.*DNS:acme\.partners\.example.*valid until/);
    await screenshot(page, 'partner-credentials-add-certificate');
    await dialog.getByRole('button', { name: 'Add certificate' }).click();
    await expect.poll(() => dialog.count()).toBe(0);

    const listed = acme.getByRole('listitem', { name: /^Certificate cert_/ });
    await expect.poll(() => listed.textContent()).toMatch(new RegExp(`fingerprint.*${expected}.*added by pat`));
    const stored = JSON.parse((await admin(TOKENS.publisher, 'GET', '/partners/acme')).text) as { certificates: Array<{ id: string; match: string; value: string }> };
    expect(stored.certificates).toEqual([expect.objectContaining({ match: 'fingerprint', value: acmeCert.fingerprint })]);
    certificateId = stored.certificates[0]!.id;
    await applied();
    expect(await viaProxy(acmeCert)).toEqual({ status: 200, body: '{"partner":"acme"}' });

    // a second, by subject CN: checked as typed
    await acme.getByRole('button', { name: 'Add certificate for Acme Corp' }).click();
    await dialog.getByLabel('Subject CN').check();
    const value = dialog.getByRole('textbox', { name: 'Subject CN' });
    await value.fill('CN=acme-backup');
    await dialog.getByText('Subject CN must be the common name only (e.g. acme-client), without "CN=".').waitFor();
    await value.fill('acme-backup');
    await dialog.getByRole('button', { name: 'Add certificate' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => acme.getByRole('listitem', { name: /^Certificate / }).count()).toBe(2);

    // the same fingerprint again (typed, with colons): refused before any call
    await acme.getByRole('button', { name: 'Add certificate for Acme Corp' }).click();
    await dialog.getByRole('textbox', { name: 'SHA-256 fingerprint' }).fill(expected.toLowerCase());
    await dialog.getByText('SHA-256 fingerprint is registered for Acme Corp already.').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // one certificate, one partner: globex cannot have acme's (the API refuses; the dialog says so)
    const globex = await openCredentials('globex');
    await globex.getByRole('button', { name: 'Add certificate for Globex' }).click();
    const globexDialog = page.getByRole('dialog', { name: 'Add a client certificate for Globex' });
    await globexDialog.getByLabel('Certificate (PEM)').fill(acmeCert.cert);
    await globexDialog.getByText('SHA-256 fingerprint is registered for partner "acme" already: one certificate identifies one partner.').waitFor();
    await globexDialog.getByRole('button', { name: 'Cancel' }).click();
    expect(errors).toEqual([]);
  }, 60_000);

  let firstSecret: { id: string; secret: string };
  it('an HMAC secret is shown once, signs a request the gateway accepts, rotates (shown once more) and is revoked with a reason', async () => {
    const acme = await openCredentials('acme');
    await acme.getByRole('button', { name: 'Create secret for Acme Corp' }).click();
    const shown = page.getByRole('dialog', { name: 'New HMAC secret for acme' });
    await shown.waitFor();
    await expect.poll(() => shown.textContent()).toMatch(/shown only this once\. You will not see it again/);
    const input = shown.getByLabel('New HMAC secret');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('new-hmac-secret'); // focused, to copy at once
    const secret = await input.inputValue();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = /keyId=(hk_[0-9a-f]{8})/.exec((await shown.textContent()) ?? '')?.[1];
    expect(id).toBeDefined();
    firstSecret = { id: id!, secret };
    await shown.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => shown.count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Create secret for Acme Corp'); // focus back where it was

    await expect.poll(() => acme.getByRole('listitem', { name: `HMAC secret ${id}` }).textContent()).toMatch(/active.*created by pat.*no expiry/);
    // the secret is nowhere once the dialog is closed: not on the page, not in any partner answer
    expect(await page.content()).not.toContain(secret);
    for (const token of [TOKENS.publisher, TOKENS.editor, TOKENS.admin]) expect((await admin(token, 'GET', '/partners')).text).not.toContain(secret);

    await applied();
    expect(await signedCall(id!, secret)).toEqual({ status: 200, body: '{"partner":"acme"}' });
    expect((await signedCall(id!, `${secret.slice(0, -1)}x`)).status).toBe(401);

    // the page with two certificates and one HMAC secret
    await screenshot(page, 'partner-credentials');

    await acme.getByRole('button', { name: `Rotate HMAC secret ${id}` }).click();
    const rotate = page.getByRole('dialog', { name: `Rotate HMAC secret ${id} of Acme Corp?` });
    await expect.poll(() => rotate.textContent()).toMatch(/keeps working for 24 hours/);
    await rotate.getByRole('button', { name: 'Rotate secret' }).click();
    await shown.getByText(`The secret ${id} it replaces keeps working for 24 hours, then is refused.`).waitFor();
    const rotated = await shown.getByLabel('New HMAC secret').inputValue();
    const rotatedId = /keyId=(hk_[0-9a-f]{8})/.exec((await shown.textContent()) ?? '')?.[1];
    expect([rotated === secret, rotatedId === id]).toEqual([false, false]);
    await shown.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => acme.getByRole('listitem', { name: `HMAC secret ${id}` }).textContent()).toMatch(/active.*expires /);
    await applied();
    expect([(await signedCall(id!, secret)).status, (await signedCall(rotatedId!, rotated)).status]).toEqual([200, 200]);

    await acme.getByRole('button', { name: `Revoke HMAC secret ${id}` }).click();
    const revoke = page.getByRole('dialog', { name: `Revoke HMAC secret ${id} of Acme Corp?` });
    await expect.poll(() => revoke.getByRole('button', { name: 'Revoke secret' }).isDisabled()).toBe(true); // a reason first
    await revoke.getByLabel('Reason (kept in the audit log)').fill('partner rotated its signer');
    await revoke.getByRole('button', { name: 'Revoke secret' }).click();
    await expect.poll(() => acme.getByRole('listitem', { name: `HMAC secret ${id}` }).textContent()).toMatch(/revoked.*revoked by pat/);
    await expect.poll(() => acme.getByRole('button', { name: `Rotate HMAC secret ${id}` }).count()).toBe(0);
    await applied();
    expect([(await signedCall(id!, secret)).status, (await signedCall(rotatedId!, rotated)).status]).toEqual([401, 200]);

    // removing a certificate asks a reason too, and the gateway stops mapping it
    const fingerprinted = acme.getByRole('listitem', { name: /^Certificate / }).filter({ hasText: 'fingerprint' });
    await fingerprinted.getByRole('button', { name: /^Remove certificate / }).click();
    const remove = page.getByRole('dialog', { name: /^Remove certificate cert_\w+ of Acme Corp\?$/ });
    await expect.poll(() => remove.textContent()).toContain(new X509Certificate(acmeCert.cert).fingerprint256);
    await expect.poll(() => remove.getByRole('button', { name: 'Remove certificate' }).isDisabled()).toBe(true);
    await remove.getByLabel('Reason (kept in the audit log)').fill('device retired');
    await remove.getByRole('button', { name: 'Remove certificate' }).click();
    await expect.poll(() => acme.getByRole('listitem', { name: /^Certificate / }).count()).toBe(1);
    await applied();
    expect((await viaProxy(acmeCert)).status).toBe(401);

    const audit = JSON.parse((await admin(TOKENS.admin, 'GET', '/audit')).text) as { entries: Array<{ action: string; actor: string; detail?: string }> };
    const mine = audit.entries.filter((e) => e.action.startsWith('certificate.') || e.action.startsWith('hmac-secret.')).map((e) => `${e.actor} ${e.action}: ${e.detail}`);
    expect(mine).toEqual(
      expect.arrayContaining([
        `pat certificate.add: certificate ${certificateId} added: fingerprint ${acmeCert.fingerprint}`,
        `pat certificate.remove: certificate ${certificateId} removed (fingerprint ${acmeCert.fingerprint}): device retired`,
        `pat hmac-secret.create: HMAC secret ${id} created`,
        expect.stringMatching(new RegExp(`^pat hmac-secret\\.rotate: HMAC secret ${id} replaced by ${rotatedId}`)),
        `pat hmac-secret.revoke: HMAC secret ${id} revoked: partner rotated its signer`,
      ]),
    );
    expect(JSON.stringify(audit)).not.toContain(secret);
    expect(JSON.stringify(audit)).not.toContain(rotated);
    expect(errors).toEqual([]);
  }, 60_000);

  it('an editor reads the same lists with no button to change them, and the API refuses the editor anyway', async () => {
    await openPage();
    await signInAt(page, gateway.url, TOKENS.editor);
    const acme = await openCredentials('acme');
    await expect.poll(() => acme.textContent()).toMatch(/Client certificates.*subject CN.*acme-backup.*added by pat.*HMAC secrets.*revoked.*active/);
    for (const name of [/Add certificate/, /Create secret/, /^Remove/, /^Rotate/, /^Revoke/]) expect(await acme.getByRole('button', { name }).count()).toBe(0);
    await expect.poll(() => page.getByRole('note').textContent()).toMatch(/Read-only.*editor role cannot change partners/);

    const certificate = JSON.parse((await admin(TOKENS.publisher, 'GET', '/partners/acme')).text) as { certificates: Array<{ id: string }> };
    const refused = await Promise.all([
      admin(TOKENS.editor, 'POST', '/partners/acme/certificates', { match: 'subject', value: 'eve-laptop' }),
      admin(TOKENS.editor, 'POST', `/partners/acme/certificates/${certificate.certificates[0]!.id}/remove`, { reason: 'x' }),
      admin(TOKENS.editor, 'POST', '/partners/acme/hmac-secrets', {}),
      admin(TOKENS.editor, 'POST', `/partners/acme/hmac-secrets/${firstSecret.id}/rotate`, {}),
      admin(TOKENS.editor, 'POST', `/partners/acme/hmac-secrets/${firstSecret.id}/revoke`, {}),
    ]);
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    for (const r of refused) expect(r.text).not.toMatch(/"secret"/);
    expect(JSON.parse((await admin(TOKENS.publisher, 'GET', '/partners/acme')).text)).toMatchObject({ certificates: [{ value: 'acme-backup' }] });
    expect(errors).toEqual([]);
  }, 30_000);

  it('at 1024x768: no sideways scroll, the dialogs keep focus and answer the keyboard, axe finds no serious problem', async () => {
    await openPage({ width: 1024, height: 768 });
    await signInAt(page, gateway.url, TOKENS.publisher);
    await page.goto(`${gateway.url}/editor/#/partners`);
    const toggle = page.getByRole('row', { name: 'Partner acme' }).getByRole('button', { name: /HMAC secret/ });
    await toggle.focus();
    await page.keyboard.press('Enter');
    const acme = credentialsOf('acme');
    await acme.waitFor();
    const sideways = () => page.evaluate(() => [document.documentElement, document.querySelector('.page')!].map((e) => e.scrollWidth - e.clientWidth));
    expect(await sideways()).toEqual([0, 0]);
    const scan = async (what: string, within?: string) => {
      const builder = new AxeBuilder({ page });
      const { violations } = await (within ? builder.include(within) : builder).analyze();
      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${what}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    };
    await scan('page with credentials open');
    await screenshot(page, 'partner-credentials-1024');

    // by keyboard: open the add dialog, pick "Subject alternative name" with the arrow keys, type, refuse, fix, escape
    const add = acme.getByRole('button', { name: 'Add certificate for Acme Corp' });
    await add.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add a client certificate for Acme Corp' });
    await dialog.waitFor();
    expect(await focusedInDialog()).toBe(true);
    await dialog.getByLabel('SHA-256 fingerprint').first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => dialog.getByLabel('Subject alternative name').isChecked()).toBe(true);
    await dialog.getByLabel('Type').selectOption('URI');
    await dialog.getByRole('textbox', { name: 'Name' }).focus();
    await page.keyboard.type('not a uri');
    await dialog.getByText('Name must be a URI such as spiffe://partners/acme.').waitFor();
    await scan('add certificate dialog, refusing', 'dialog[open]');
    expect(await sideways()).toEqual([0, 0]);
    await screenshot(page, 'partner-credentials-add-san-1024');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Add certificate for Acme Corp'); // focus returns

    // the PEM side of the dialog, with a certificate read
    await add.click();
    await dialog.getByLabel('Certificate (PEM)').fill(pki.issue('scan', { cn: 'scan-client', sans: ['URI:spiffe://partners/scan'] }).cert);
    await dialog.getByText('Computed from the certificate above: this is what will be saved.').waitFor();
    await scan('add certificate dialog, a PEM read', 'dialog[open]');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // the shown-once secret dialog and the revoke question
    await acme.getByRole('button', { name: 'Create secret for Acme Corp' }).click();
    const shown = page.getByRole('dialog', { name: 'New HMAC secret for acme' });
    await shown.waitFor();
    await scan('new HMAC secret dialog', 'dialog[open]');
    expect(await sideways()).toEqual([0, 0]);
    await screenshot(page, 'partner-credentials-secret-1024');
    await page.keyboard.press('Escape');
    await expect.poll(() => shown.count()).toBe(0);
    await acme.getByRole('button', { name: /^Revoke HMAC secret / }).first().click();
    await page.getByRole('dialog', { name: /^Revoke HMAC secret / }).waitFor();
    await scan('revoke question', 'dialog[open]');
    await page.keyboard.press('Escape');
    expect(errors).toEqual([]);
  }, 120_000);
});

import type { SavedRequest } from '../api/credentials.ts';
import { can } from '../api/roles.ts';
import { useSessionContext } from '../editor-context.ts';
import { useResource } from '../hooks/useResource.ts';

type KeyRef = SavedRequest['apiKey'];

/**
 * Whether this role must mock the upstream when running as this key: running as a registered
 * partner's key against the real upstream is for the roles that manage partners (the API refuses
 * an editor with 403 otherwise).
 */
export function useMustMock(keyRef: KeyRef): boolean {
  const { identity } = useSessionContext();
  return keyRef?.key !== undefined && !can(identity.role, 'publish');
}

const INLINE = '\u0000inline';

/**
 * "Run as partner": picks a registered partner's active key for the preview. The request then
 * carries a reference to the key (`apiKey: { key: <id> }`), never the key: each run mints a key
 * with that partner and those scopes, and a saved test or sample keeps the reference.
 */
export function PartnerKeyPicker({ keyRef, onPick, onMustMock }: { keyRef: KeyRef; onPick(ref: KeyRef): void; onMustMock(): void }) {
  const { api, identity } = useSessionContext();
  const { resource } = useResource(() => api.partners(), 'preview-partner-keys');
  const mayRunReal = can(identity.role, 'publish');
  const partners = resource.status === 'ready' ? resource.value.partners : [];
  const options = partners.flatMap((p) => p.keys.filter((k) => k.state === 'active').map((k) => ({ p, k })));
  const value = keyRef?.key ?? (keyRef?.hash ? INLINE : '');
  const known = keyRef?.key === undefined || options.some(({ k }) => k.id === keyRef.key);
  return (
    <div className="field preview__partner">
      <label htmlFor="preview-partner-key">Run as partner</label>
      <select
        id="preview-partner-key"
        value={value}
        aria-describedby="preview-partner-key-help"
        onChange={(e) => {
          const id = e.target.value;
          if (id === INLINE) return;
          onPick(id === '' ? undefined : { key: id });
          if (id !== '' && !mayRunReal) onMustMock();
        }}
      >
        <option value="">no partner key (the headers as typed)</option>
        {keyRef?.hash && <option value={INLINE}>the sample's inline key (by its hash)</option>}
        {!known && <option value={keyRef?.key}>key {keyRef?.key} (no longer active)</option>}
        {options.map(({ p, k }) => (
          <option key={k.id} value={k.id}>
            {p.id} — key sk_{k.prefix}… (scopes: {k.scopes.join(' ') || 'none'}){p.status === 'suspended' ? ' — partner suspended' : ''}
          </option>
        ))}
      </select>
      <p id="preview-partner-key-help" className={!mayRunReal && value !== '' ? 'preview__partner-note' : 'field__desc'}>
        {mayRunReal
          ? options.length === 0 && resource.status === 'ready'
            ? 'No partner has an active key yet: create one on the Partners page.'
            : 'A key of this partner, with its scopes, is made for each run; the request keeps only a reference to it.'
          : `The ${identity.role} role runs a partner's key against a mocked upstream only (the real upstream needs the publisher or admin role): the mocked answer below is used.`}
      </p>
    </div>
  );
}

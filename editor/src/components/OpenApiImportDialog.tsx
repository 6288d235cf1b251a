import { useState } from 'react';
import { parse as parseYaml } from 'yaml';
import { workflowsFromOpenApi, type ImportedWorkflow, type ImportIdentity } from '../../../shared/compile/openapi-import.ts';
import { ApiError, describeError } from '../api/client.ts';
import { useSessionContext } from '../editor-context.ts';
import { Dialog } from './Dialog.tsx';

/** What became of one operation: a new draft, one that existed already, or a refusal in words. */
type Outcome = { id: string; result: 'draft' | 'exists' | 'refused'; message?: string };

/**
 * Imports an OpenAPI 3 file (JSON or YAML, pasted or chosen) as one draft per operation, through
 * the same conversion as `sluice import openapi`: route, the identity node chosen here, a
 * scope-check for the operation's OAuth scopes, validate-request, proxy. Nothing is published.
 */
export function OpenApiImportDialog({ open, onClose, onImported }: { open: boolean; onClose(): void; onImported(): void }) {
  const { api } = useSessionContext();
  const [text, setText] = useState('');
  const [upstream, setUpstream] = useState('${SLUICE_UPSTREAM_ORDERS}');
  const [identity, setIdentity] = useState<ImportIdentity>('api-key');
  const [issuer, setIssuer] = useState('');
  const [jwksUri, setJwksUri] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecretEnv, setClientSecretEnv] = useState('');
  const [outcomes, setOutcomes] = useState<Outcome[] | undefined>();
  const [busy, setBusy] = useState(false);

  let preview: ImportedWorkflow[] | undefined;
  let problem: string | undefined;
  if (text.trim() !== '' && upstream.trim() !== '') {
    try {
      const spec: unknown = /^\s*\{/.test(text) ? JSON.parse(text) : parseYaml(text);
      const given = (fields: Record<string, string>) => Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v !== ''));
      // an issuer URL is the introspection endpoint when it does not look like an issuer (a path ending in /introspect)
      const server: Record<string, string> = /\/introspect(ion)?\/?$/.test(issuer.trim()) ? { endpoint: issuer } : { issuer };
      preview = workflowsFromOpenApi(spec, { upstream: upstream.trim(), identity, jwt: given({ issuer, jwksUri }), introspection: given({ ...server, clientId, clientSecretEnv }) });
    } catch (error) {
      problem = `This is not an OpenAPI 3 document we can read: ${(error as Error).message}`;
    }
  }

  const create = async () => {
    if (!preview) return;
    setBusy(true);
    const done: Outcome[] = [];
    for (const { document } of preview) {
      const id = String(document.id);
      try {
        await api.create(document);
        done.push({ id, result: 'draft' });
      } catch (error) {
        done.push(error instanceof ApiError && error.status === 409 ? { id, result: 'exists', message: 'a workflow with this id exists: left as it is' } : { id, result: 'refused', message: describeError(error) });
      }
    }
    setOutcomes(done);
    setBusy(false);
    onImported();
  };

  const close = () => {
    setOutcomes(undefined);
    onClose();
  };

  return (
    <Dialog open={open} title="Import OpenAPI" onClose={close} className="openapi-import">
      <p className="muted">One draft per operation: its route, the identity node you choose, a scope check for its OAuth scopes, request validation from its parameters and JSON body, and a proxy to the upstream. Nothing is published.</p>
      <div className="field">
        <label htmlFor="openapi-1">OpenAPI file (JSON or YAML)</label>
        <input id="openapi-1" type="file" accept=".json,.yaml,.yml,application/json,application/yaml" onChange={(e) => void e.target.files?.[0]?.text().then(setText)} />
      </div>
      <div className="field">
        <label htmlFor="openapi-2">…or paste it</label>
        <textarea id="openapi-2" rows={6} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </div>
      <div className="field">
        <label htmlFor="openapi-3">Upstream URL (an allowed variable, e.g. {'${SLUICE_UPSTREAM_ORDERS}'}, or a URL)</label>
        <input id="openapi-3" value={upstream} onChange={(e) => setUpstream(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="openapi-4">Identity</label>
        <select id="openapi-4" value={identity} onChange={(e) => setIdentity(e.target.value as ImportIdentity)}>
          <option value="api-key">API key of a registered partner</option>
          <option value="jwt-verify">JWT from an issuer (OIDC discovery or a JWKS URL)</option>
          <option value="introspect">Opaque token, introspected at the authorization server (RFC 7662)</option>
          <option value="client-cert">Client certificate of a registered partner (mTLS)</option>
          <option value="hmac-verify">Signed request (HMAC secret of a registered partner)</option>
          <option value="none">None</option>
        </select>
      </div>
      {(identity === 'jwt-verify' || identity === 'introspect') && (
        <div className="field">
          <label htmlFor="openapi-5">{identity === 'jwt-verify' ? 'Issuer (its keys are found by OIDC discovery)' : 'Issuer, or the introspection endpoint'}</label>
          <input id="openapi-5" value={issuer} onChange={(e) => setIssuer(e.target.value)} placeholder="https://idp.example" />
        </div>
      )}
      {identity === 'jwt-verify' && (
        <div className="field">
          <label htmlFor="openapi-6">…or the JWKS URL of the issuer</label>
          <input id="openapi-6" value={jwksUri} onChange={(e) => setJwksUri(e.target.value)} placeholder="https://idp.example/.well-known/jwks.json" />
        </div>
      )}
      {identity === 'introspect' && (
        <>
          <div className="field">
            <label htmlFor="openapi-7">The gateway's client id at the authorization server</label>
            <input id="openapi-7" value={clientId} onChange={(e) => setClientId(e.target.value)} placeholder="sluice-gateway" />
          </div>
          <div className="field">
            <label htmlFor="openapi-8">Environment variable holding its secret</label>
            <input id="openapi-8" value={clientSecretEnv} onChange={(e) => setClientSecretEnv(e.target.value)} placeholder="SLUICE_SECRET_INTROSPECTION" />
          </div>
        </>
      )}
      {problem && <p className="field__error" role="alert">{problem}</p>}
      {preview && !outcomes && (
        <ul className="openapi-import__list" aria-label="Operations to import">
          {preview.map(({ document, notes }) => {
            const route = document.route as { methods: string[]; path: string };
            return (
              <li key={String(document.id)}>
                <code>{route.methods.join(',')} {route.path}</code> → {String(document.id)}
                {notes.length > 0 && <span className="muted"> ({notes.join('; ')})</span>}
              </li>
            );
          })}
        </ul>
      )}
      {outcomes && (
        <ul className="openapi-import__list" aria-label="Import results">
          {outcomes.map((o) => (
            <li key={o.id}>
              <a href={`#/workflows/${encodeURIComponent(o.id)}`}>{o.id}</a>: {o.result === 'draft' ? 'draft created' : o.message}
            </li>
          ))}
        </ul>
      )}
      <div className="dialog__actions">
        <button type="button" onClick={close}>
          {outcomes ? 'Close' : 'Cancel'}
        </button>
        {!outcomes && (
          <button type="button" className="primary" disabled={!preview || busy} onClick={() => void create()}>
            {preview ? `Create ${preview.length} draft${preview.length === 1 ? '' : 's'}` : 'Create drafts'}
          </button>
        )}
      </div>
    </Dialog>
  );
}

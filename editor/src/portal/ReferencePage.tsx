import type { PortalReference } from '../../../shared/portal/index.ts';
import { useResource } from '../hooks/useResource.ts';
import { Access, LifecycleChip, LifecycleNote, loadState, routeText, when } from './parts.tsx';
import { portalGet } from './portal-client.ts';
import { usePortalReader } from './portal-context.ts';
import { PortalLink } from './PortalLink.tsx';
import { portalHref } from './route.ts';
import { ScalarReference } from './ScalarReference.tsx';

/** /portal/workflows/:id: a published route's reference: who may call it, every answer it gives, and its OpenAPI rendered. */
export function ReferencePage({ id }: { id: string }) {
  const reader = usePortalReader();
  const { resource } = useResource(() => portalGet<PortalReference>(`/workflows/${encodeURIComponent(id)}`, reader), `reference ${id} ${reader.token ?? ''} ${reader.preview ?? ''}`);
  const state = loadState(resource, 'reference');
  if (state || resource.status !== 'ready') return <main className="portal-main">{state}</main>;
  const { workflow, answers, openapi } = resource.value;
  return (
    <main className="portal-main" aria-labelledby="reference-title">
      <h1 id="reference-title">{workflow.name}</h1>
      <p>
        <code className="portal-route">{routeText(workflow)}</code> <LifecycleChip lifecycle={workflow.lifecycle} /> <span className="muted small">version {workflow.version}{workflow.publishedAt ? `, published ${when(workflow.publishedAt)}` : ''}</span>
      </p>
      {workflow.description ? <p>{workflow.description}</p> : null}
      <LifecycleNote lifecycle={workflow.lifecycle} />
      <dl className="portal-facts">
        <Access workflow={workflow} />
        <dt>Products</dt>
        <dd>
          {workflow.products.map((p, i) => (
            <span key={p}>
              {i > 0 ? ', ' : ''}
              <PortalLink href={portalHref(`/portal/products/${encodeURIComponent(p)}`, reader.preview)}>{p}</PortalLink>
            </span>
          ))}
        </dd>
      </dl>
      <h2 id="answers-title">Answers it gives</h2>
      <p className="small muted">Every answer of the gateway itself (not the upstream's), derived from the version it serves.</p>
      <table className="portal-table portal-answers" aria-labelledby="answers-title">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Title</th>
            <th scope="col">Problem type</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {answers.map((a, i) => (
            <tr key={i}>
              <td>{a.status}</td>
              <td>{a.title}</td>
              <td>{a.type ? a.problemPage ? <PortalLink href={a.problemPage}>{a.type}</PortalLink> : <code>{a.type}</code> : '—'}</td>
              <td>{a.condition}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>OpenAPI reference</h2>
      <p className="small">
        <a href={portalHref(`/portal/api/workflows/${encodeURIComponent(workflow.id)}/openapi.json`, reader.preview)}>OpenAPI 3.1 document (JSON)</a>
      </p>
      <ScalarReference document={openapi} label={`OpenAPI reference of ${workflow.name}`} />
    </main>
  );
}

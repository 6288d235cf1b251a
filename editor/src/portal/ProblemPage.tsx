import type { PortalProblem } from '../../../shared/portal/index.ts';
import { useResource } from '../hooks/useResource.ts';
import { loadState } from './parts.tsx';
import { portalGet } from './portal-client.ts';
import { usePortalReader } from './portal-context.ts';
import { PortalLink } from './PortalLink.tsx';
import { portalHref } from './route.ts';

/** /portal/problems/:slug: a problem type as RFC 9457 means it to be read by the person who got one. */
export function ProblemPage({ slug }: { slug: string }) {
  const reader = usePortalReader();
  const { resource } = useResource(() => portalGet<PortalProblem>(`/problems/${encodeURIComponent(slug)}`), `problem ${slug}`);
  const state = loadState(resource, 'problem type');
  if (state || resource.status !== 'ready') return <main className="portal-main">{state}</main>;
  const problem = resource.value;
  return (
    <main className="portal-main" aria-labelledby="problem-title">
      <p className="small muted">
        <PortalLink href={portalHref('/portal/problems', reader.preview)}>Problem types</PortalLink>
      </p>
      <h1 id="problem-title">
        {problem.status} {problem.title}
      </h1>
      <dl className="portal-facts">
        <dt>Type</dt>
        <dd>
          <code>{problem.type}</code>
        </dd>
        <dt>Status</dt>
        <dd>{problem.status}</dd>
        <dt>Detail</dt>
        <dd>{problem.detail}</dd>
        <dt>Catalog id</dt>
        <dd>
          <code>{problem.id}</code>
        </dd>
      </dl>
      <p>
        Answers of this type are <code>application/problem+json</code> bodies with <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code>, <code>instance</code> and a <code>traceId</code> to quote when you report it.
      </p>
      <h2>Routes that can answer with it</h2>
      {problem.workflows.length === 0 ? (
        <p className="small muted">None of the published routes; the gateway itself may.</p>
      ) : (
        <ul>
          {problem.workflows.map((w) => (
            <li key={w.id}>
              <PortalLink href={portalHref(`/portal/workflows/${encodeURIComponent(w.id)}`, reader.preview)}>{w.name}</PortalLink>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}

/** /portal/problems: every problem type of the catalog. */
export function ProblemsPage() {
  const reader = usePortalReader();
  const { resource } = useResource(() => portalGet<{ problems: PortalProblem[] }>('/problems'), 'problems');
  return (
    <main className="portal-main" aria-labelledby="problems-title">
      <h1 id="problems-title">Problem types</h1>
      <p className="muted">Every error answer is RFC 9457 problem details; its type links here.</p>
      {loadState(resource, 'problem types') ??
        (resource.status === 'ready' ? (
          <table className="portal-table">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Title</th>
                <th scope="col">Type</th>
              </tr>
            </thead>
            <tbody>
              {resource.value.problems.map((p) => (
                <tr key={p.slug}>
                  <td>{p.status}</td>
                  <td>
                    <PortalLink href={portalHref(`/portal/problems/${encodeURIComponent(p.slug)}`, reader.preview)}>{p.title}</PortalLink>
                  </td>
                  <td>
                    <code>{p.type}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null)}
    </main>
  );
}

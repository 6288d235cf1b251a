import type { PortalChangelog, PortalChangelogEntry } from '../../../shared/portal/index.ts';
import { useResource } from '../hooks/useResource.ts';
import { loadState, when } from './parts.tsx';
import { portalGet } from './portal-client.ts';
import { usePortalReader } from './portal-context.ts';
import { PortalLink } from './PortalLink.tsx';
import { portalHref } from './route.ts';

const EVENT_WORDS: Record<PortalChangelogEntry['event'], string> = { published: 'published', deprecated: 'deprecated', retired: 'retired' };

/** /portal/changelog/:product: each version of the product's routes, newest first, with how its answers changed. */
export function ChangelogPage({ product }: { product: string }) {
  const reader = usePortalReader();
  const { resource } = useResource(() => portalGet<PortalChangelog>(`/changelog/${encodeURIComponent(product)}`, reader), `changelog ${product} ${reader.token ?? ''} ${reader.preview ?? ''}`);
  const state = loadState(resource, 'changelog');
  if (state || resource.status !== 'ready') return <main className="portal-main">{state}</main>;
  const log = resource.value;
  return (
    <main className="portal-main" aria-labelledby="changelog-title">
      <h1 id="changelog-title">Changelog of {log.name}</h1>
      <p className="muted">
        Made from the error contracts of the published versions. <PortalLink href={portalHref(`/portal/products/${encodeURIComponent(log.product)}`, reader.preview)}>Back to {log.name}</PortalLink>
      </p>
      <ol className="portal-changelog" aria-label="Changes">
        {log.entries.map((entry, i) => (
          <li key={`${entry.workflow}-${entry.version}-${entry.event}-${i}`} aria-label={`${entry.workflowName} version ${entry.version} ${EVENT_WORDS[entry.event]}`}>
            <h2>
              {entry.workflowName} · version {entry.version} {entry.at === '' ? <span className="chip chip--draft">preview</span> : <span className={`chip chip--${entry.event === 'published' ? 'active' : entry.event}`}>{EVENT_WORDS[entry.event]}</span>}
            </h2>
            <p className="small muted">{entry.at === '' ? 'after the pending publish' : <time dateTime={entry.at}>{when(entry.at)}</time>}</p>
            <p>{entry.summary}</p>
            {entry.sunset ? (
              <p>
                Sunset: <time dateTime={entry.sunset}>{when(entry.sunset)}</time>
              </p>
            ) : null}
            {entry.event === 'published' && entry.at !== '' && entry.summary.startsWith('first version') ? null : (
              <ul className="portal-changes">
                {entry.added.map((c, j) => (
                  <li key={`a${j}`}>
                    <span className="chip chip--added">added</span> <strong>{c.status}</strong> {c.title} <span className="muted">— when {c.condition}</span>
                  </li>
                ))}
                {entry.removed.map((c, j) => (
                  <li key={`r${j}`}>
                    <span className="chip chip--removed">removed</span> <strong>{c.status}</strong> {c.title} <span className="muted">— when {c.condition}</span>
                  </li>
                ))}
                {entry.changed.map((c, j) => (
                  <li key={`c${j}`}>
                    <span className="chip chip--changed">changed</span> <strong>{c.before.status}</strong> {c.before.title} → <strong>{c.after.status}</strong> {c.after.title} <span className="muted">— when {c.after.condition}</span>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </main>
  );
}

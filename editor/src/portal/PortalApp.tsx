import { useMemo } from 'react';
import { CatalogPage } from './CatalogPage.tsx';
import { ChangelogPage } from './ChangelogPage.tsx';
import { PartnerPage } from './partner/PartnerPage.tsx';
import { PortalReaderContext } from './portal-context.ts';
import { PortalLink } from './PortalLink.tsx';
import { ProblemPage, ProblemsPage } from './ProblemPage.tsx';
import { ProductPage } from './ProductPage.tsx';
import { ReferencePage } from './ReferencePage.tsx';
import { portalHref, usePortalRoute, type PortalRoute } from './route.ts';
import { SignInForm } from './SignInForm.tsx';
import { usePortalSession } from './usePortalSession.ts';

/** The developer portal: the published catalog, references, changelogs and problem types. */
export function PortalApp() {
  const { route, preview } = usePortalRoute();
  const { state, signIn, signOut } = usePortalSession();
  const token = state.status === 'ready' ? state.token : undefined;
  const reader = useMemo(() => ({ token, preview }), [token, preview]);
  if (state.status === 'checking') return <p className="loading">Loading the portal…</p>;
  const { session } = state;
  const signedIn = session.viewer.kind !== 'anonymous';
  // problem type pages are public in every mode; a preview and a sign-in portal need a token first
  const needsSignIn = !signedIn && route.page !== 'partner' && route.page !== 'problem' && route.page !== 'problems' && (session.mode === 'sign-in' || preview !== undefined);
  return (
    <PortalReaderContext.Provider value={reader}>
      <a className="skip-link" href="#portal-content">
        Skip to content
      </a>
      <header className="portal-bar">
        <PortalLink className="brand" href={portalHref('/portal', preview)}>
          ≋ API portal
        </PortalLink>
        <nav aria-label="Portal">
          <PortalLink href={portalHref('/portal', preview)} aria-current={route.page === 'catalog' ? 'page' : undefined}>
            Products
          </PortalLink>
          <PortalLink href={portalHref('/portal/problems', preview)} aria-current={route.page === 'problems' || route.page === 'problem' ? 'page' : undefined}>
            Problem types
          </PortalLink>
          <PortalLink href="/portal/partner" aria-current={route.page === 'partner' ? 'page' : undefined}>
            Partners
          </PortalLink>
        </nav>
        <span className="portal-bar__spacer" />
        {session.viewer.kind === 'admin' ? (
          <>
            <span className="small">
              Signed in as {session.viewer.name} ({session.viewer.role})
            </span>
            <button type="button" className="small" onClick={signOut}>
              Sign out
            </button>
          </>
        ) : null}
      </header>
      {preview !== undefined && signedIn ? (
        <div className="portal-preview" role="status" aria-label="Preview">
          <strong>Preview</strong> of “{preview}” as it will look after its pending publish: not published, not visible to anyone else.{' '}
          <a href={window.location.pathname}>Leave the preview</a>
        </div>
      ) : null}
      <div id="portal-content">
        {needsSignIn ? (
          <main className="portal-main">
            <SignInForm onSignIn={signIn} why={preview !== undefined ? 'A preview of an unpublished change needs the admin token of a publisher.' : 'This portal is for signed-in readers: sign in with your admin token.'} />
            {state.message ? <p className="small muted">{state.message}</p> : null}
          </main>
        ) : (
          <Page route={route} />
        )}
      </div>
    </PortalReaderContext.Provider>
  );
}

function Page({ route }: { route: PortalRoute }) {
  switch (route.page) {
    case 'catalog':
      return <CatalogPage />;
    case 'product':
      return <ProductPage id={route.id} />;
    case 'workflow':
      return <ReferencePage id={route.id} />;
    case 'problems':
      return <ProblemsPage />;
    case 'problem':
      return <ProblemPage slug={route.slug} />;
    case 'changelog':
      return <ChangelogPage product={route.product} />;
    case 'partner':
      return <PartnerPage />;
    default:
      return (
        <main className="portal-main">
          <h1>Not found</h1>
          <p>
            No portal page here. <PortalLink href="/portal">See the API products</PortalLink>.
          </p>
        </main>
      );
  }
}

import { describeError } from './api/client.ts';
import { EditorScreen } from './components/EditorScreen.tsx';
import { LeaveDialog } from './components/LeaveDialog.tsx';
import { SignIn } from './components/SignIn.tsx';
import { PartnersPage } from './components/PartnersPage.tsx';
import { WorkflowList } from './components/WorkflowList.tsx';
import { SessionContext, type Session } from './editor-context.ts';
import { errorsHref, fragmentsHref, listHref, partnersHref, rulesHref, useHashRoute } from './hooks/useHashRoute.ts';
import { FragmentScreen } from './fragments/FragmentScreen.tsx';
import { FragmentsPage } from './fragments/FragmentsPage.tsx';
import { CatalogPage } from './catalog/CatalogPage.tsx';
import { RulesPage } from './rules/RulesPage.tsx';
import { TrafficPage } from './traffic/TrafficPage.tsx';
import { trafficHref } from './traffic/traffic-model.ts';
import { useResource } from './hooks/useResource.ts';
import { useSession } from './hooks/useSession.ts';

/** Sign-in first; then the workflow list or one workflow's editor, by the URL hash. */
export function App() {
  const { state, signIn } = useSession();
  if (state.status === 'checking') return <p className="loading">Checking your session…</p>;
  if (state.status === 'signed-out') return <SignIn onSignIn={signIn} message={state.message} />;
  return (
    <SessionContext.Provider value={state.session}>
      <SignedIn session={state.session} />
    </SessionContext.Provider>
  );
}

function SignedIn({ session }: { session: Session }) {
  const route = useHashRoute();
  const { resource: kinds } = useResource(() => session.api.kinds(), 'kinds');
  return (
    <div className="app">
      <header className="appbar">
        <a className="brand" href={listHref}>
          ≋ Sluice
        </a>
        <nav className="appbar__nav" aria-label="Sections">
          <a href={listHref} aria-current={route.screen === 'list' || route.screen === 'workflow' ? 'page' : undefined}>
            Workflows
          </a>
          <a href={fragmentsHref} aria-current={route.screen === 'fragments' || route.screen === 'fragment' ? 'page' : undefined}>
            Fragments
          </a>
          <a href={partnersHref} aria-current={route.screen === 'partners' ? 'page' : undefined}>
            Partners
          </a>
          <a href={errorsHref} aria-current={route.screen === 'errors' ? 'page' : undefined}>
            Errors
          </a>
          <a href={rulesHref} aria-current={route.screen === 'rules' ? 'page' : undefined}>
            Rules
          </a>
          <a href={trafficHref()} aria-current={route.screen === 'traffic' ? 'page' : undefined}>
            Traffic
          </a>
        </nav>
        <span className="appbar__spacer" />
        <span className="whoami" aria-label={`Signed in as ${session.identity.name}, role ${session.identity.role}`}>
          {session.identity.name} <span className={`chip chip--role chip--${session.identity.role}`}>{session.identity.role}</span>
        </span>
        <button type="button" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      {route.screen === 'list' ? (
        <WorkflowList />
      ) : route.screen === 'partners' ? (
        <PartnersPage />
      ) : route.screen === 'errors' ? (
        <CatalogPage />
      ) : route.screen === 'rules' ? (
        <RulesPage />
      ) : route.screen === 'traffic' ? (
        <TrafficPage query={route.query} kinds={kinds} />
      ) : route.screen === 'fragments' ? (
        <FragmentsPage />
      ) : kinds.status === 'ready' ? (
        route.screen === 'fragment' ? (
          <FragmentScreen id={route.id} kinds={kinds.value} />
        ) : (
          <EditorScreen id={route.id} kinds={kinds.value} version={route.version} page={route.page} />
        )
      ) : kinds.status === 'error' ? (
        <p className="field__error" role="alert">
          Cannot load the node kinds. {describeError(kinds.error)}
        </p>
      ) : (
        <p className="loading">Loading node kinds…</p>
      )}
      <LeaveDialog />
    </div>
  );
}

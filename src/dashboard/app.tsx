import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, apiClient } from './api/client';
import type { Whoami } from './api/types';
import { forgetToken, loadToken, saveToken } from './auth/token-store';
import { Header } from './components/header';
import { EventStream } from './events/event-stream';
import { focusBack } from './focus';
import { Dead } from './pages/dead';
import { NotFound } from './pages/not-found';
import { Overview } from './pages/overview';
import { SignIn } from './pages/sign-in';
import { TaskPage } from './pages/task';
import { Tasks } from './pages/tasks';
import { type Route, useRoute } from './router';
import { type Session, SessionContext } from './session';

type Auth =
  | { kind: 'checking' }
  | { kind: 'signed-out'; error: ApiError | undefined }
  | { kind: 'signed-in'; token: string | undefined; whoami: Whoami }
  | { kind: 'unreachable'; error: ApiError };

/**
 * The page: asks GET /v1/whoami (with the kept token, if any) who this is; a 401 shows the
 * sign-in form, anything else the pages with a header saying who is signed in.
 */
export function App() {
  const [auth, setAuth] = useState<Auth>({ kind: 'checking' });
  const route = useRoute();

  const check = useCallback(async (token: string | undefined, remember?: boolean) => {
    try {
      const whoami = await apiClient(token).get<Whoami>('/v1/whoami');
      if (token !== undefined && remember !== undefined) saveToken(token, remember);
      setAuth({ kind: 'signed-in', token, whoami });
      // From the form: the form is gone, the page's title takes the focus.
      if (remember !== undefined) focusBack(null);
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError(0, '', String(err));
      const fromForm = remember !== undefined;
      // From the form, every refusal is said beside it (the token stays in the field).
      if (fromForm) setAuth({ kind: 'signed-out', error });
      else if (error.status === 401) {
        // A kept token that no longer works is not the user's mistake: no alert for it.
        forgetToken();
        setAuth({ kind: 'signed-out', error: undefined });
      } else setAuth({ kind: 'unreachable', error });
    }
  }, []);

  useEffect(() => {
    void check(loadToken());
  }, [check]);

  const signOut = useCallback(() => {
    forgetToken();
    setAuth({ kind: 'signed-out', error: undefined });
    focusBack(null);
  }, []);

  const session = useMemo<Session | undefined>(() => {
    if (auth.kind !== 'signed-in') return undefined;
    return { whoami: auth.whoami, api: apiClient(auth.token), stream: new EventStream(auth.token) };
  }, [auth]);

  useEffect(() => {
    if (!session) return;
    session.stream.start();
    return () => session.stream.stop();
  }, [session]);

  useFocusOnRouteChange(route);
  useEffect(() => {
    document.title = `${auth.kind === 'signed-in' ? titleOf(route) : 'Sign in'} · taskqueue`;
  }, [auth.kind, route]);

  let body: ComponentChildren;
  if (auth.kind === 'checking') body = <p class="loading">Loading…</p>;
  else if (auth.kind === 'unreachable')
    body = (
      <>
        <h1 id="page-title" tabIndex={-1}>
          taskqueue
        </h1>
        <p role="alert" class="alert">
          {auth.error.message}
        </p>
        <button type="button" onClick={() => void check(loadToken())}>
          Try again
        </button>
      </>
    );
  else if (auth.kind === 'signed-out')
    body = <SignIn error={auth.error} onSignIn={(token, remember) => check(token, remember)} />;
  else body = <Page route={route} />;

  return (
    <SessionContext.Provider value={session}>
      {/* biome-ignore lint/a11y/useValidAnchor: a link (it is one to the content), whose click must not change the hash route */}
      <a class="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <Header
        session={session}
        onSignOut={auth.kind === 'signed-in' && auth.token !== undefined ? signOut : undefined}
      />
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </SessionContext.Provider>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <Overview />;
    case 'tasks':
      return <Tasks query={route.query} />;
    case 'task':
      return <TaskPage key={route.id} id={route.id} />;
    case 'dead':
      return <Dead queue={route.queue} />;
    default:
      return <NotFound path={route.path} />;
  }
}

/** The tab's title: which page, for the history and the tab strip. */
function titleOf(route: Route): string {
  switch (route.page) {
    case 'overview':
      return 'Overview';
    case 'tasks':
      return 'Tasks';
    case 'task':
      return `Task ${route.id}`;
    case 'dead':
      return route.queue ? `Dead letters: ${route.queue}` : 'Dead letters';
    default:
      return 'Not found';
  }
}

/** The skip link must not change the hash: the hash is the route. */
function skipToMain(event: MouseEvent) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}

/** After a route change (not the first page), focus the new page's title, as a page load would. */
function useFocusOnRouteChange(route: Route) {
  const key = JSON.stringify(route.page === 'tasks' ? { page: 'tasks' } : route);
  const [first, setFirst] = useState(true);
  useEffect(() => {
    if (first) {
      setFirst(false);
      return;
    }
    const title = document.getElementById('page-title');
    if (title) title.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }, [key]);
}

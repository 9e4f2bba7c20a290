import { useEffect, useState } from 'preact/hooks';
import type { StreamStatus } from '../events/event-stream';
import { hrefs, useRoute } from '../router';
import { ROLE_LABELS, type Session } from '../session';

/** Name, navigation, who is signed in and whether live updates flow. */
export function Header({
  session,
  onSignOut,
}: {
  session: Session | undefined;
  onSignOut: (() => void) | undefined;
}) {
  const route = useRoute();
  const current = (page: string) =>
    route.page === page || (page === 'tasks' && route.page === 'task') ? 'page' : undefined;
  return (
    <header class="top">
      <a class="brand" href={hrefs.overview()}>
        taskqueue
      </a>
      {session && (
        <nav aria-label="Main">
          <a href={hrefs.overview()} aria-current={current('overview')}>
            Overview
          </a>
          <a href={hrefs.tasks()} aria-current={current('tasks')}>
            Tasks
          </a>
          <a href={hrefs.dead()} aria-current={current('dead')}>
            Dead letters
          </a>
        </nav>
      )}
      {session && (
        <div class="who">
          <LiveIndicator session={session} />
          <span class="role" data-testid="role">
            {ROLE_LABELS[session.whoami.role]} ({session.whoami.name})
          </span>
          {onSignOut && (
            <button type="button" class="secondary" onClick={onSignOut}>
              Sign out
            </button>
          )}
        </div>
      )}
    </header>
  );
}

function LiveIndicator({ session }: { session: Session }) {
  const [status, setStatus] = useState<StreamStatus>(session.stream.status);
  useEffect(() => {
    setStatus(session.stream.status);
    return session.stream.onStatus(setStatus);
  }, [session]);
  return (
    <span class={`live live-${status}`} data-testid="live" title="live updates from the API">
      {status}
    </span>
  );
}

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ApiClient } from './api/client';
import type { Role, Whoami } from './api/types';
import type { EventStream } from './events/event-stream';

/** Who is signed in, and the API client and event stream made with their token. */
export interface Session {
  whoami: Whoami;
  api: ApiClient;
  stream: EventStream;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** How the header names a role (the browser tests read these words). */
export const ROLE_LABELS: Record<Role, string> = {
  read: 'read-only',
  retry: 'may retry',
  operate: 'operator',
};

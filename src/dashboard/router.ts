import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes, so that every view is a link one can share and the server serves one page:
 * `#/` overview, `#/tasks?state=…&type=…&since=…&until=…&q=…`, `#/tasks/<id>`, `#/dead`,
 * `#/dead/<type>`, `#/dead/_invalid`.
 */
export type Route =
  | { page: 'overview' }
  | { page: 'tasks'; query: Record<string, string> }
  | { page: 'task'; id: string }
  | { page: 'dead'; queue: string | undefined }
  | { page: 'not-found'; path: string };

/** The dead-letter route of the input queue's `.invalid` (no worker type starts with `_`). */
export const INVALID_QUEUE = '_invalid';

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#/, '');
  const mark = text.indexOf('?');
  const path = (mark < 0 ? text : text.slice(0, mark)) || '/';
  const query = Object.fromEntries(new URLSearchParams(mark < 0 ? '' : text.slice(mark + 1)));
  const parts = path.split('/').filter((part) => part !== '');
  const decoded = parts.map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  const [first, second] = decoded;
  if (decoded.length === 0) return { page: 'overview' };
  if (first === 'tasks' && decoded.length === 1) return { page: 'tasks', query };
  if (first === 'tasks' && decoded.length === 2 && second) return { page: 'task', id: second };
  if (first === 'dead' && decoded.length <= 2) return { page: 'dead', queue: second };
  return { page: 'not-found', path };
}

export const hrefs = {
  overview: () => '#/',
  tasks: (query: Record<string, string | undefined> = {}) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
    const text = params.toString();
    return text === '' ? '#/tasks' : `#/tasks?${text}`;
  },
  task: (id: string) => `#/tasks/${encodeURIComponent(id)}`,
  dead: (queue?: string) => (queue ? `#/dead/${encodeURIComponent(queue)}` : '#/dead'),
};

export function navigate(href: string): void {
  window.location.hash = href.replace(/^#/, '');
}

/** The current route, following hashchange. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

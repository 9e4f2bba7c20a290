import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** Reads again, keeping what is shown until the answer comes. */
  reload: () => void;
}

/**
 * Runs `load` when `deps` change (and on reload), every `pollMs` when given; an answer that
 * arrives after a newer request started is dropped, so a slow page never overwrites a fresh one.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const latest = useRef(0);
  const inFlight = useRef(false);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(() => {
    const ticket = ++latest.current;
    inFlight.current = true;
    loadRef
      .current()
      .then(
        (value) => {
          if (ticket !== latest.current) return;
          setData(value);
          setError(undefined);
        },
        (err: unknown) => {
          if (ticket !== latest.current) return;
          setError(err instanceof ApiError ? err : new ApiError(0, '', String(err)));
        },
      )
      .finally(() => {
        if (ticket === latest.current) inFlight.current = false;
      });
  }, []);

  useEffect(() => {
    setData(undefined);
    setError(undefined);
    reload();
    if (!pollMs) return () => void latest.current++;
    // A poll waits for the answer before it asks again (a slow broker must not starve the page),
    // and a hidden tab does not poll; shown again, it reads at once.
    const tick = () => {
      if (!inFlight.current && !document.hidden) reload();
    };
    const timer = setInterval(tick, pollMs);
    const onVisible = () => {
      if (!document.hidden) tick();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
      latest.current++;
      inFlight.current = false;
    };
  }, deps);

  return { data, error, reload };
}

/**
 * Calls `fn` at once, then at most once per `ms` (once more at the end of a burst): the first
 * change shows without delay, a burst of events makes a few reloads, not one each.
 */
export function throttle(fn: () => void, ms: number): { call: () => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending = false;
  const wait = () => {
    timer = setTimeout(() => {
      timer = undefined;
      if (!pending) return;
      pending = false;
      fn();
      wait();
    }, ms);
  };
  return {
    call: () => {
      if (timer !== undefined) {
        pending = true;
        return;
      }
      fn();
      wait();
    },
    cancel: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pending = false;
    },
  };
}

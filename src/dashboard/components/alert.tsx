import type { ApiError } from '../api/client';

/** An error from the API, its own message, where a screen reader announces it. */
export function ErrorAlert({ error }: { error: ApiError | string | undefined }) {
  if (!error) return null;
  return (
    <p role="alert" class="alert">
      {typeof error === 'string' ? error : error.message}
    </p>
  );
}

/** What an action did ("requeued 1"), said politely. */
export function StatusLine({ text }: { text: string | undefined }) {
  return (
    <p role="status" class={text ? 'status' : 'status empty'}>
      {text ?? ''}
    </p>
  );
}

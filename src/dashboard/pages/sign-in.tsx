import { useState } from 'preact/hooks';
import type { ApiError } from '../api/client';
import { ErrorAlert } from '../components/alert';

/** The token form: shown when GET /v1/whoami answers 401. */
export function SignIn({
  onSignIn,
  error,
}: {
  onSignIn: (token: string, remember: boolean) => Promise<void>;
  error: ApiError | undefined;
}) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  return (
    <section class="sign-in" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Sign in
      </h1>
      <p>
        This API asks for a token: the last word of your line in its tokens file (ask whoever runs
        it).
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (busy || token.trim() === '') return;
          setBusy(true);
          void onSignIn(token.trim(), remember).finally(() => setBusy(false));
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          // A textbox (not type=password, which has no role) masked by CSS: tokens are pasted.
          type="text"
          class="secret"
          autoComplete="off"
          spellcheck={false}
          autoCapitalize="off"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <label class="check">
          <input
            type="checkbox"
            checked={remember}
            onChange={(event) => setRemember(event.currentTarget.checked)}
          />
          Remember on this browser
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorAlert error={error} />
    </section>
  );
}

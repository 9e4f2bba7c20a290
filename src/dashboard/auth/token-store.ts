/**
 * Where the sign-in token is kept: sessionStorage (gone with the tab) unless the user ticked
 * "Remember on this browser", then localStorage. Only one of them holds it at a time.
 */
const KEY = 'taskqueue.token';

function storages(): Storage[] {
  const found: Storage[] = [];
  for (const get of [() => window.sessionStorage, () => window.localStorage]) {
    try {
      found.push(get());
    } catch {
      // storage refused (privacy settings): the token lives only in this page
    }
  }
  return found;
}

export function loadToken(): string | undefined {
  for (const storage of storages()) {
    const token = storage.getItem(KEY);
    if (token) return token;
  }
  return undefined;
}

export function saveToken(token: string, remember: boolean): void {
  forgetToken();
  try {
    (remember ? window.localStorage : window.sessionStorage).setItem(KEY, token);
  } catch {
    // not kept: signed in for this page only
  }
}

export function forgetToken(): void {
  for (const storage of storages()) storage.removeItem(KEY);
}

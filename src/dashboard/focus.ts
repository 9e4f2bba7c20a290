/**
 * Gives focus back after a dialog or an action: to `element` when it can still take it (in the
 * page and not disabled), else to the element with id `fallbackId` (a heading with tabindex -1).
 * After the current render, so that what the action changed is on the page.
 */
export function focusBack(element: HTMLElement | null, fallbackId = 'page-title'): void {
  setTimeout(() => {
    const usable =
      element?.isConnected && !(element as HTMLButtonElement).disabled ? element : null;
    (usable ?? document.getElementById(fallbackId))?.focus();
  }, 0);
}

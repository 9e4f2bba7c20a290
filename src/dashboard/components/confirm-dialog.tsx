import { useEffect, useRef } from 'preact/hooks';
import { focusBack } from '../focus';

/**
 * A modal question with Confirm and Cancel: the native <dialog> (role dialog, focus kept
 * inside, Escape cancels), focus given back to `returnTo` (the button that asked, which may
 * have been disabled meanwhile) or, when that is gone, to the page's title.
 */
export function ConfirmDialog({
  title,
  text,
  onConfirm,
  onCancel,
  returnTo,
}: {
  title: string;
  text: string;
  onConfirm: () => void;
  onCancel: () => void;
  returnTo: HTMLElement | null;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      focusBack(returnTo);
    };
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby="confirm-title"
      aria-describedby="confirm-text"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="confirm-title">{title}</h2>
      <p id="confirm-text">{text}</p>
      <div class="actions">
        <button type="button" class="danger" onClick={onConfirm}>
          Confirm
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

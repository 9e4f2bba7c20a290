import { useEffect, useState } from 'preact/hooks';

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http on another host: no Clipboard API; the old way still works from a click.
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy refused');
}

/** A button that copies `text`, then says so beside it for a moment. */
export function CopyButton({ label, text }: { label: string; text: string }) {
  const [said, setSaid] = useState('');
  useEffect(() => {
    if (!said) return;
    const timer = setTimeout(() => setSaid(''), 2500);
    return () => clearTimeout(timer);
  }, [said]);
  return (
    <span class="copy">
      <button
        type="button"
        class="secondary"
        onClick={() =>
          copyText(text).then(
            () => setSaid('Copied'),
            () => setSaid('Could not copy: select it by hand'),
          )
        }
      >
        {label}
      </button>
      <span class="copy-said" aria-live="polite">
        {said}
      </span>
    </span>
  );
}

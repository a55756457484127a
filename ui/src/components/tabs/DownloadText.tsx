// A button that saves a string as a file, made on click from a Blob (nothing is uploaded).
import type { ComponentChildren } from 'preact';

export function DownloadText(p: { text: string; name: string; class?: string; children: ComponentChildren }) {
  const onClick = () => {
    const url = URL.createObjectURL(new Blob([p.text], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = p.name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  return (
    <button type="button" class={p.class} data-download={p.name} onClick={onClick}>
      {p.children}
    </button>
  );
}

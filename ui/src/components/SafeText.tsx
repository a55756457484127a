// Shows text taken from a message (file names, addresses) with hazardous characters, such as
// NUL or a right-to-left override, drawn as visible code-point badges instead of taking effect.
import { safeSegments, safeText } from '../format.ts';

/** Text from a message, isolated from surrounding bidi context, hazards made visible. */
export function SafeText({ text, max, class: cls }: { text: string; max?: number; class?: string }) {
  const segs = safeSegments(text, max);
  return (
    <bdi class={cls ? `safe ${cls}` : 'safe'} dir="ltr" title={safeText(text, 2000)}>
      {segs.map((s, i) =>
        'text' in s ? (
          s.text
        ) : (
          <span key={i} class="ctl" title={`Hidden character ${s.code}`}>
            {s.code}
          </span>
        ),
      )}
    </bdi>
  );
}

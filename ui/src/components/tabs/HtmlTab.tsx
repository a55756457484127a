// The rendered HTML of a message, in a sandboxed iframe: no scripts, no same-origin access, no
// forms, no top navigation; links may only open new tabs. The server's /view document carries its
// own strict CSP and blocks remote resources until the user asks for them.
import { remoteBlockedCount, urls } from '../../api.ts';
import { useAsync } from '../../hooks.ts';
import { IconMonitor, IconPhone, IconShield, IconTablet } from '../Icons.tsx';

export type PreviewWidth = 'phone' | 'tablet' | 'desktop';

export const SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';

interface Props {
  id: string;
  width: PreviewWidth;
  onWidth(w: PreviewWidth): void;
  remote: boolean;
  onAllowRemote(): void;
}

const WIDTHS = [
  ['phone', 'Phone (375 px)', IconPhone],
  ['tablet', 'Tablet (768 px)', IconTablet],
  ['desktop', 'Desktop (full width)', IconMonitor],
] as const;

export function HtmlTab({ id, width, onWidth, remote, onAllowRemote }: Props) {
  const blocked = useAsync((signal) => remoteBlockedCount(id, signal), [id]);
  const n = blocked.state === 'ok' ? blocked.value : 0;
  const src = urls.view(id, remote);
  return (
    <div class="html-tab">
      <div class="html-bar">
        {n > 0 && !remote ? (
          <span class="remote-note" role="status">
            <IconShield size={15} />
            <span>
              {n} remote {n === 1 ? 'image' : 'images'} blocked
            </span>
            <button type="button" class="link-btn" onClick={onAllowRemote}>
              Show
            </button>
          </span>
        ) : (
          <span class="remote-note muted">
            <IconShield size={15} />
            {remote ? 'Remote images shown' : 'No remote content'}
          </span>
        )}
        <span class="spacer" />
        <fieldset class="seg">
          <legend class="sr-only">Preview width</legend>
          {WIDTHS.map(([w, label, Icon]) => (
            <button
              key={w}
              type="button"
              class={`seg-btn ${width === w ? 'active' : ''}`}
              aria-pressed={width === w}
              title={label}
              onClick={() => onWidth(w)}
            >
              <Icon size={16} />
              <span class="sr-only">{label}</span>
            </button>
          ))}
        </fieldset>
      </div>
      <div class={`frame-wrap frame-${width}`}>
        <iframe
          key={src}
          class="html-frame"
          title="Message HTML"
          sandbox={SANDBOX}
          src={src}
          referrerpolicy="no-referrer"
        />
      </div>
    </div>
  );
}

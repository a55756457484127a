// Attachments and inline parts: image thumbnails (the server's /thumb), type, size, open and
// download links. File names come from the sender, so they are shown with hazards made visible
// and downloaded under a cleaned name. Thousands of parts are shown a page at a time.
import { useState } from 'preact/hooks';
import { urls } from '../../api.ts';
import { downloadName, formatCount, formatSize } from '../../format.ts';
import type { Attachment, Message } from '../../types.ts';
import { IconDownload, IconExternal, IconFile } from '../Icons.tsx';
import { SafeText } from '../SafeText.tsx';

const PAGE = 120;

function isImage(type: string): boolean {
  return /^image\/(png|jpe?g|gif|webp|bmp|avif|tiff?)$/i.test(type.trim());
}

function Card({ id, a }: { id: string; a: Attachment }) {
  const [thumbFailed, setThumbFailed] = useState(false);
  const name = a.FileName || '';
  const label = name || `part ${a.PartID}`;
  return (
    <li class="att">
      <div class="att-thumb">
        {isImage(a.ContentType) && !thumbFailed ? (
          <img
            src={urls.thumb(id, a.PartID)}
            alt=""
            loading="lazy"
            decoding="async"
            width={180}
            height={120}
            onError={() => setThumbFailed(true)}
          />
        ) : (
          <span class="att-icon">
            <IconFile size={34} />
            <span class="att-ext">{(/\.([A-Za-z0-9]{1,5})$/.exec(name)?.[1] ?? '').toUpperCase()}</span>
          </span>
        )}
      </div>
      <div class="att-info">
        <div class="att-name">
          {name ? <SafeText text={name} max={240} /> : <em class="muted">{label}</em>}
        </div>
        <div class="att-meta muted">
          <SafeText text={a.ContentType || 'application/octet-stream'} max={100} /> · {formatSize(a.Size)}
        </div>
        <div class="att-actions">
          <a
            class="btn btn-small"
            href={urls.part(id, a.PartID)}
            download={downloadName(name, `part-${a.PartID}`)}
            aria-label={`Download ${label}`}
          >
            <IconDownload size={14} /> Download
          </a>
          <a
            class="btn btn-small btn-ghost"
            href={urls.part(id, a.PartID)}
            target="_blank"
            rel="noopener noreferrer"
            aria-label={`Open ${label} in a new tab`}
          >
            <IconExternal size={14} /> Open
          </a>
        </div>
      </div>
    </li>
  );
}

function Section({ id, title, parts }: { id: string; title: string; parts: Attachment[] }) {
  const [shown, setShown] = useState(PAGE);
  if (parts.length === 0) return null;
  return (
    <section class="att-section">
      <h3 class="section-title">
        {title} <span class="count">{formatCount(parts.length)}</span>
      </h3>
      <ul class="att-grid">
        {parts.slice(0, shown).map((a) => (
          <Card key={a.PartID} id={id} a={a} />
        ))}
      </ul>
      {parts.length > shown && (
        <button type="button" class="btn" onClick={() => setShown((n) => n + PAGE * 4)}>
          Show more ({formatCount(parts.length - shown)} left)
        </button>
      )}
    </section>
  );
}

export function AttachmentsTab({ msg }: { msg: Message }) {
  const att = msg.Attachments ?? [];
  const inline = msg.Inline ?? [];
  if (att.length + inline.length === 0) return <p class="muted pad">This message has no attachments.</p>;
  return (
    <div class="pad">
      <Section id={msg.ID} title="Attachments" parts={att} />
      <Section id={msg.ID} title="Inline parts" parts={inline} />
    </div>
  );
}

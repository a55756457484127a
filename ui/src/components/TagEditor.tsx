// The tags of the open message: chips (click one to list its messages, × to remove it) and a
// field to add one, suggesting the tags already in use.
import { useState } from 'preact/hooks';
import { IconPlus, IconTag, IconX } from './Icons.tsx';
import { SafeText } from './SafeText.tsx';

interface Props {
  tags: string[];
  all: string[];
  onChange(tags: string[]): void;
  onTagClick(tag: string): void;
}

export function TagEditor({ tags, all, onChange, onTagClick }: Props) {
  const [adding, setAdding] = useState(false);
  const [value, setValue] = useState('');
  const add = () => {
    const t = value.trim();
    setValue('');
    setAdding(false);
    if (!t || tags.some((x) => x.toLowerCase() === t.toLowerCase())) return;
    onChange([...tags, t]);
  };
  return (
    <div class="tag-editor">
      <IconTag size={15} />
      {tags.map((t) => (
        <span key={t} class="chip chip-lg">
          <button
            type="button"
            class="chip-main"
            onClick={() => onTagClick(t)}
            title={`Show messages tagged ${t}`}
          >
            <SafeText text={t} max={60} />
          </button>
          <button
            type="button"
            class="chip-x"
            aria-label={`Remove tag ${t}`}
            onClick={() => onChange(tags.filter((x) => x !== t))}
          >
            <IconX size={12} />
          </button>
        </span>
      ))}
      {adding ? (
        <form
          class="tag-form"
          onSubmit={(e) => {
            e.preventDefault();
            add();
          }}
        >
          <input
            class="input input-small"
            list="all-tags"
            aria-label="New tag"
            placeholder="tag name"
            value={value}
            maxLength={100}
            ref={(el) => el?.focus()}
            onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.stopPropagation();
                setAdding(false);
                setValue('');
              }
            }}
            onBlur={add}
          />
          <datalist id="all-tags">
            {all
              .filter((t) => !tags.includes(t))
              .map((t) => (
                <option key={t} value={t} />
              ))}
          </datalist>
        </form>
      ) : (
        <button type="button" class="link-btn add-tag" onClick={() => setAdding(true)}>
          <IconPlus size={13} /> {tags.length ? 'Tag' : 'Add tag'}
        </button>
      )}
    </div>
  );
}

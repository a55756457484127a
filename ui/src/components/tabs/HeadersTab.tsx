// Every header of the message as a table, in the order received, with a quick filter.
import { useState } from 'preact/hooks';
import { getHeaders } from '../../api.ts';
import { useAsync } from '../../hooks.ts';
import { SafeText } from '../SafeText.tsx';
import { ErrorNote, Loading } from './status.tsx';

export function HeadersTab({ id }: { id: string }) {
  const res = useAsync((signal) => getHeaders(id, signal), [id]);
  const [filter, setFilter] = useState('');
  if (res.state === 'loading') return <Loading />;
  if (res.state === 'error') return <ErrorNote error={res.error} />;
  const f = filter.trim().toLowerCase();
  const rows: [string, string][] = [];
  for (const [name, values] of Object.entries(res.value)) {
    for (const v of values ?? []) {
      if (!f || name.toLowerCase().includes(f) || v.toLowerCase().includes(f)) rows.push([name, v]);
    }
  }
  return (
    <div class="pad">
      <input
        class="input filter"
        type="search"
        placeholder="Filter headers"
        aria-label="Filter headers"
        value={filter}
        onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)}
      />
      <table class="kv-table">
        <thead>
          <tr>
            <th scope="col">Header</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, v], i) => (
            <tr key={i}>
              <th scope="row">
                <SafeText text={name} max={200} />
              </th>
              <td>
                <SafeText text={v} max={20000} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p class="muted">No header matches.</p>}
    </div>
  );
}

// Shared loading and error states for the tabs.
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ErrorNote({ error }: { error: Error }) {
  return (
    <div class="banner banner-error" role="alert">
      {error.message}
    </div>
  );
}

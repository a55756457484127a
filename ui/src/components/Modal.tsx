// A modal built on <dialog> (focus trapping, Esc and the top layer come from the browser), plus
// the two the UI needs: a confirmation and the keyboard-shortcut sheet.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface ModalProps {
  title: string;
  onClose(): void;
  children: ComponentChildren;
  class?: string;
}

export function Modal({ title, onClose, children, class: cls }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    d.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      close.current();
    };
    d.addEventListener('cancel', onCancel);
    return () => {
      d.removeEventListener('cancel', onCancel);
      if (d.open) d.close();
    };
  }, []);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Esc closes the dialog (the browser's cancel event).
    <dialog
      ref={ref}
      class={`modal ${cls ?? ''}`}
      aria-label={title}
      onClick={(e) => {
        // A click on the backdrop (the dialog element itself) closes it.
        if (e.target === ref.current) close.current();
      }}
    >
      <div class="modal-body">
        <h2 class="modal-title">{title}</h2>
        {children}
      </div>
    </dialog>
  );
}

interface ConfirmProps {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm(): void;
  onCancel(): void;
}

export function ConfirmDialog(p: ConfirmProps) {
  return (
    <Modal title={p.title} onClose={p.onCancel} class="modal-confirm">
      <div class="modal-text">{p.message}</div>
      <div class="modal-actions">
        <button type="button" class="btn" onClick={p.onCancel}>
          Cancel
        </button>
        <button
          type="button"
          class={`btn ${p.danger ? 'btn-danger' : 'btn-primary'}`}
          onClick={p.onConfirm}
          ref={(el) => el?.focus()}
        >
          {p.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

const SHORTCUTS: [string[], string][] = [
  [['j', '↓'], 'Next (older) message'],
  [['k', '↑'], 'Previous (newer) message'],
  [['Enter', 'o'], 'Open message'],
  [['Esc'], 'Back to the list / clear selection / clear search'],
  [['x', 'Space'], 'Select or unselect message'],
  [['Shift+click'], 'Select a range'],
  [['r'], 'Toggle read / unread'],
  [['Delete', '#'], 'Delete selected or open message'],
  [['/'], 'Search'],
  [['g g', 'Home'], 'First message'],
  [['G', 'End'], 'Last message'],
  [['[', ']'], 'Previous / next tab'],
  [['?'], 'This help'],
];

const SEARCH_SYNTAX: [string, string][] = [
  ['from:ann', 'Sender contains "ann"'],
  ['to:  cc:  bcc:', 'Recipient fields'],
  ['subject:"order 42"', 'Subject contains a phrase'],
  ['is:unread  is:read', 'Read state'],
  ['has:attachment', 'With attachments'],
  ['tag:billing', 'Tagged'],
  ['after:2024-01-31  before:', 'Received date'],
  ['larger:1M  smaller:10k', 'Size'],
  ['-word  !from:bot', 'Exclude'],
];

const TICKET_SHORTCUTS: [string[], string][] = [
  [['j', '↓'], 'Next ticket'],
  [['k', '↑'], 'Previous ticket'],
  [['Enter', 'o'], 'Open ticket'],
  [['Esc'], 'Back to the list / clear search'],
  [['/'], 'Search tickets'],
  [['Ctrl+Enter', '⌘+Enter'], 'Send the reply or note'],
  [['?'], 'This help'],
];

const TICKET_SEARCH: [string, string][] = [
  ['refund', 'Words in the subject, the people or any entry'],
  ['SUPPORT-42', 'A ticket by its key'],
  ['State chips', 'Open, pending, solved, closed (none on: every state)'],
  ['Assignee', 'Anyone, unassigned, or one agent'],
  ['A tag', 'Click a ticket’s tag to list its tickets'],
];

/** The keyboard help: the inbox's keys and search syntax, or the tickets' on that screen. */
export function ShortcutsDialog({ onClose, tickets = false }: { onClose(): void; tickets?: boolean }) {
  const keysList = tickets ? TICKET_SHORTCUTS : SHORTCUTS;
  const syntax = tickets ? TICKET_SEARCH : SEARCH_SYNTAX;
  return (
    <Modal title={tickets ? 'Ticket shortcuts' : 'Keyboard shortcuts'} onClose={onClose} class="modal-wide">
      <div class="help-cols">
        <table class="help-table">
          <tbody>
            {keysList.map(([keys, what]) => (
              <tr key={what}>
                <td class="keys">
                  {keys.map((k, i) => (
                    <span key={k}>
                      {i > 0 && <span class="muted"> or </span>}
                      <kbd>{k}</kbd>
                    </span>
                  ))}
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div>
          <h3 class="section-title">{tickets ? 'Finding tickets' : 'Search syntax'}</h3>
          <table class="help-table">
            <tbody>
              {syntax.map(([q, what]) => (
                <tr key={q}>
                  <td>
                    <code>{q}</code>
                  </td>
                  <td>{what}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div class="modal-actions">
        <button type="button" class="btn btn-primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}

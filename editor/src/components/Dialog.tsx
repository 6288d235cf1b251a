import { useEffect, useRef, useState, type ReactNode } from 'react';

export interface DialogProps {
  open: boolean;
  title: string;
  onClose(): void;
  children: ReactNode;
  className?: string;
}

/**
 * A modal on the native <dialog>: the browser gives it the dialog role, keeps focus inside,
 * closes it on Escape and returns focus where it was.
 */
export function Dialog({ open, title, onClose, children, className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const titleId = `dialog-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} className={`dialog ${className ?? ''}`} aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      {open && (
        <>
          <header className="dialog__head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </header>
          <div className="dialog__body">{children}</div>
        </>
      )}
    </dialog>
  );
}

/** A question the editor asks before acting: a confirmation, or a name to type. */
export interface Question {
  title: string;
  text: string;
  /** The label of the button that says yes, e.g. "Revoke key". */
  confirm: string;
  /** The label of the button that says no; "Cancel" when absent. */
  cancel?: string;
  /** The yes button is styled as destructive. */
  danger?: boolean;
  /** A text to type, with its label and first value: the answer is the text. */
  input?: { label: string; value: string; optional?: boolean };
}

/**
 * The in-app replacement of window.confirm and window.prompt: a Dialog asking `question`;
 * `onAnswer` gets the typed text (prompt), true (confirm), or undefined for Cancel, Escape or ×.
 */
export function AskDialog({ question, onAnswer }: { question: Question | undefined; onAnswer(answer: string | true | undefined): void }) {
  const [text, setText] = useState('');
  useEffect(() => setText(question?.input?.value ?? ''), [question]);
  const inputId = `ask-${(question?.title ?? '').replace(/\W+/g, '-').toLowerCase()}`;
  const blank = question?.input !== undefined && !question.input.optional && text.trim() === '';
  return (
    <Dialog open={question !== undefined} title={question?.title ?? ''} onClose={() => onAnswer(undefined)}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!blank) onAnswer(question?.input ? text.trim() : true);
        }}
      >
        <p>{question?.text}</p>
        {question?.input && (
          <div className="field">
            <label htmlFor={inputId}>{question.input.label}</label>
            <input id={inputId} type="text" value={text} autoFocus maxLength={200} onChange={(e) => setText(e.target.value)} />
          </div>
        )}
        <div className="dialog__actions">
          <button type="button" onClick={() => onAnswer(undefined)}>
            {question?.cancel ?? 'Cancel'}
          </button>
          <button type="submit" className={question?.danger ? 'danger' : 'primary'} disabled={blank} title={blank ? `${question?.input?.label} is empty` : undefined}>
            {question?.confirm}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

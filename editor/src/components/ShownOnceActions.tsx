import { useEffect, useState } from 'react';

/**
 * Copy and Done under a secret shown once (an API key, a client secret, a partner's rotated key);
 * `value` is what Copy puts on the clipboard (a new value clears "Copied"). `className` is the
 * action row's class: the editor's dialogs and the portal's have their own.
 */
export function ShownOnceActions({ value, onDone, className = 'dialog__actions' }: { value: string | undefined; onDone(): void; className?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => setCopied(false), [value]);
  const copy = () =>
    void navigator.clipboard?.writeText(value ?? '').then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return (
    <div className={className}>
      <span role="status" className="muted small">
        {copied ? 'Copied to the clipboard.' : ''}
      </span>
      <button type="button" onClick={copy}>
        Copy
      </button>
      <button type="button" className="primary" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

import { useState, type ReactNode } from 'react';
import { Dialog } from '../components/Dialog.tsx';
import { FormError } from './fields.tsx';
import { refusal, type FieldErrors } from './form.ts';

/** What the partner, product and plan dialogs share: local checks shown after a first try or as typed, the server's refusal by field, busy. */
export function useForm(local: FieldErrors, idTyped: boolean) {
  const [tried, setTried] = useState(false);
  const [server, setServer] = useState<{ message: string; fields: FieldErrors } | undefined>();
  const [busy, setBusy] = useState(false);
  const shown: FieldErrors = { ...(tried ? local : Object.fromEntries(Object.entries(local).filter(([f]) => f !== 'name' && !(f === 'id' && !idTyped)))), ...server?.fields };
  const submit = async (send: () => Promise<void>) => {
    setTried(true);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    setServer(undefined);
    try {
      await send();
    } catch (e) {
      setServer(refusal(e));
    } finally {
      setBusy(false);
    }
  };
  const message = server?.message ?? (tried && Object.keys(local).length > 0 ? 'Fix the fields marked in red, then save again.' : undefined);
  return { shown, submit, busy, message };
}

export function FormDialog({ title, save, busy, message, label, onClose, children }: { title: string; save(): void; busy: boolean; message: string | undefined; label: string; onClose(): void; children: ReactNode }) {
  return (
    <Dialog open title={title} onClose={onClose} className="dialog--wide">
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        {children}
        <FormError message={message} />
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {label}
          </button>
        </div>
      </form>
    </Dialog>
  );
}


import { useState } from 'react';
import { Dialog } from './Dialog.tsx';

export interface ImportDialogProps {
  open: boolean;
  onClose(): void;
  /** Takes the text; returns why it cannot be imported, or undefined when it was. */
  onImport(text: string): string | undefined;
  title?: string;
  explanation?: string;
}

/** Import a workflow document from a file or pasted JSON. */
export function ImportDialog({ open, onClose, onImport, title = 'Import a workflow', explanation = 'Replaces what is drawn with the imported workflow (one step: Undo brings the current drawing back). The workflow keeps its id.' }: ImportDialogProps) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const submit = (value: string) => {
    const problem = onImport(value);
    setError(problem);
    if (!problem) setText('');
  };
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <p>{explanation}</p>
      <div className="field">
        <label htmlFor="import-file">Workflow file (.json)</label>
        <input
          id="import-file"
          type="file"
          accept="application/json,.json"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void file.text().then(submit);
            e.target.value = '';
          }}
        />
      </div>
      <div className="field">
        <label htmlFor="import-text">…or paste its JSON</label>
        <textarea id="import-text" className="code" rows={8} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </div>
      {error && (
        <p className="field__error" role="alert">
          Cannot import: {error}
        </p>
      )}
      <div className="dialog__actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={text.trim() === ''} onClick={() => submit(text)}>
          Import
        </button>
      </div>
    </Dialog>
  );
}

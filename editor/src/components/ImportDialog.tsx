import { useState } from 'react';
import { validateWorkflow, type ValidationProblem } from '../../../shared/compile/index.ts';
import { Dialog } from './Dialog.tsx';

export interface ImportDialogProps {
  open: boolean;
  onClose(): void;
  /** Takes the text; returns why it cannot be imported, or undefined when it was. */
  onImport(text: string): string | undefined;
  title?: string;
  explanation?: string;
}

/** Fields of the nodes and the lists the canvas shows and fixes; a problem anywhere else is in the envelope. */
const DRAWN = /^(nodes|edges|layout|tests|samples|log|start)(\.|$)/;

/**
 * Every problem of a document, before anything is stored, and whether it is refused: a draft
 * may be half drawn, but its envelope (id, name, route, known top-level keys) must be right,
 * since the canvas can neither show nor fix a stray key or a route it cannot read.
 */
function checkImport(text: string): { problems: ValidationProblem[]; refused: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problems: [], refused: false }; // onImport says it is not JSON
  }
  const result = validateWorkflow(value);
  const problems = result.ok ? [] : result.problems;
  return { problems, refused: problems.some((p) => p.code === 'invalid_document' && p.node === undefined && !DRAWN.test(p.field ?? '')) };
}

const where = (p: ValidationProblem) => [p.node && `node ${p.node}`, p.field].filter(Boolean).join(' · ') || 'document';

/** Import a workflow document from a file or pasted JSON. */
export function ImportDialog({ open, onClose, onImport, title = 'Import a workflow', explanation = 'Replaces what is drawn with the imported workflow (one step: Undo brings the current drawing back). The workflow keeps its id.' }: ImportDialogProps) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [problems, setProblems] = useState<ValidationProblem[]>([]);
  /** The text whose problems were shown and which a second Import takes as it is. */
  const [confirmed, setConfirmed] = useState<string | undefined>();
  const submit = (value: string) => {
    const check = checkImport(value);
    setProblems(check.problems);
    if (check.refused) {
      setConfirmed(undefined);
      return setError(`the document's id, name, route or top-level keys are wrong (${check.problems.length} problem(s) below); fix them in the file and import it again`);
    }
    if (check.problems.length > 0 && confirmed !== value) {
      setConfirmed(value);
      return setError(undefined);
    }
    const problem = onImport(value);
    setError(problem);
    if (!problem) {
      setText('');
      setProblems([]);
      setConfirmed(undefined);
    }
  };
  const pending = confirmed !== undefined && confirmed === text && problems.length > 0;
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
            if (file)
              void file.text().then((value) => {
                setText(value);
                submit(value);
              });
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
      {pending && (
        <p role="status">
          The document has {problems.length} problem(s), listed below; it can be imported as a draft and fixed on the canvas. Press “Import with problems” to go on.
        </p>
      )}
      {problems.length > 0 && (
        <ul className="import-problems" aria-label="Problems of the document">
          {problems.map((p, i) => (
            <li key={i}>
              <strong>{where(p)}</strong>: {p.message}
            </li>
          ))}
        </ul>
      )}
      <div className="dialog__actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={text.trim() === ''} onClick={() => submit(text)}>
          {pending ? 'Import with problems' : 'Import'}
        </button>
      </div>
    </Dialog>
  );
}

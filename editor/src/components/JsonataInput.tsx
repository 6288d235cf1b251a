import { autocompletion, completionKeymap, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap } from '@codemirror/commands';
import { linter, type Diagnostic } from '@codemirror/lint';
import { Annotation, Compartment, EditorState, type Extension } from '@codemirror/state';
import { EditorView, keymap, placeholder as placeholderText } from '@codemirror/view';
import { useContext, useEffect, useMemo, useRef, useState } from 'react';
import { describeError } from '../api/client.ts';
import { can } from '../api/roles.ts';
import { SessionContext } from '../editor-context.ts';
import { completeAt } from '../forms/jsonata-complete.ts';
import { jsonataError, type ExpressionError } from '../forms/jsonata-check.ts';
import { useSample, type EvaluationSample } from '../forms/sample.ts';

export interface JsonataInputProps {
  id: string;
  /** The field's name, the editor's accessible name. */
  label: string;
  value: string;
  onChange(value: string): void;
  onBlur(): void;
  readOnly: boolean;
  describedBy: string | undefined;
  invalid: boolean;
  readOnlyReason: string | undefined;
  placeholder: string | undefined;
}

/** A change that came from the props (undo, another field), not from typing: not sent back. */
const fromProps = Annotation.define<boolean>();

/** A syntax error in words, with where. */
const sentence = (error: ExpressionError) => `JSONata syntax: ${error.message}${error.position === undefined ? '' : ` (at character ${error.position})`}`;

/** The syntax error as an inline diagnostic: JSONata reports the position after the token it choked on; that token's last character is marked. */
function diagnosticsOf(source: string): Diagnostic[] {
  const error = jsonataError(source);
  if (!error) return [];
  const end = Math.max(1, Math.min(source.length, error.position ?? source.length));
  return [{ from: Math.max(0, end - 1), to: end, severity: 'error', message: sentence(error) }];
}

const theme = EditorView.theme({
  '&': { border: '1px solid var(--line-strong)', borderRadius: 'var(--radius)', background: 'var(--panel)', fontSize: '12.5px' },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '1px' },
  '.cm-content': { fontFamily: 'var(--mono)', padding: '5px 2px', minHeight: '2.9em', caretColor: 'var(--text)' },
  '.cm-scroller': { maxHeight: '12em', overflow: 'auto' },
  '.cm-placeholder': { color: 'var(--muted)' },
});

/** The result line's text for a value. */
function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

/** An evaluation's answer, with the expression it was computed from. */
type Outcome = { expression: string } & ({ ok: true; text: string; against: string } | { ok: false; text: string });

/**
 * A JSONata expression field: a CodeMirror editor that marks a syntax error where it is (parsed in
 * the browser with the jsonata package the gateway uses), completes the request context an
 * expression reads (request., claims., response., $functions), and evaluates the expression on
 * the server against the preview's sample request ("Evaluate"). Tab leaves the field, as in any
 * form field; Ctrl+Space opens the completions; undo is the editor's own (it covers this field).
 */
export function JsonataInput(props: JsonataInputProps) {
  const { id, value } = props;
  const session = useContext(SessionContext);
  const sample = useSample();
  const error = useMemo(() => jsonataError(value), [value]);
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const latest = useRef({ props, sample });
  latest.current = { props, sample };
  const [config] = useState(() => ({ editable: new Compartment(), attributes: new Compartment() }));
  const [evaluated, setEvaluated] = useState<Outcome | undefined>();
  // a result belongs to the expression it was computed from: an answer to an earlier text is not shown
  const outcome = evaluated?.expression === value ? evaluated : undefined;
  const [busy, setBusy] = useState(false);

  const errorId = `${id}-syntax`;
  const resultId = `${id}-result`;
  const describedBy = [props.describedBy, error ? errorId : undefined, outcome ? resultId : undefined].filter(Boolean).join(' ') || undefined;
  const attributes = (): Extension =>
    EditorView.contentAttributes.of({
      id,
      'aria-label': props.label,
      ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      ...(error !== undefined || props.invalid ? { 'aria-invalid': 'true' } : {}),
      ...(props.readOnly && props.readOnlyReason ? { title: props.readOnlyReason, 'aria-readonly': 'true' } : {}),
    });
  const editable = (): Extension => [EditorState.readOnly.of(props.readOnly), EditorView.editable.of(!props.readOnly)];

  useEffect(() => {
    const complete = (context: CompletionContext): CompletionResult | null => {
      const found = completeAt(context.state.sliceDoc(0, context.pos), latest.current.sample, context.explicit);
      if (!found || found.suggestions.length === 0) return null;
      return { from: found.from, options: found.suggestions.map((s) => ({ label: s.label, apply: s.apply, detail: s.detail, type: s.type })), validFor: /^[\w$`-]*$/ };
    };
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: latest.current.props.value,
        extensions: [
          // no indentWithTab: Tab moves on to the next control, as in any form
          keymap.of([...completionKeymap, ...defaultKeymap]),
          autocompletion({ override: [complete], icons: false }),
          linter((v) => diagnosticsOf(v.state.doc.toString()), { delay: 150 }),
          EditorView.lineWrapping,
          placeholderText(latest.current.props.placeholder ?? ''),
          theme,
          config.editable.of(editable()),
          config.attributes.of(attributes()),
          EditorView.updateListener.of((update) => {
            if (update.docChanged && !update.transactions.some((t) => t.annotation(fromProps))) latest.current.props.onChange(update.state.doc.toString());
          }),
          EditorView.domEventHandlers({ blur: () => latest.current.props.onBlur() }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = undefined;
    };
    // the editor is made once; the effects below keep it in step with the props
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value }, annotations: fromProps.of(true) });
  }, [value]);
  useEffect(() => {
    view.current?.dispatch({ effects: [config.editable.reconfigure(editable()), config.attributes.reconfigure(attributes())] });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.readOnly, props.readOnlyReason, props.label, describedBy, error, props.invalid, id]);

  const mayEvaluate = session !== undefined && can(session.identity.role, 'edit');
  async function evaluate() {
    if (!session) return;
    // what the field and the preview hold now: a click right after typing can come before the
    // render that would give this closure the new text
    const expression = view.current?.state.doc.toString() ?? value;
    const against: EvaluationSample = latest.current.sample ?? { request: { method: 'GET', path: '/' } };
    setBusy(true);
    try {
      const answer = await session.api.evaluate({ expression, ...against });
      const where = `${against.request.method} ${against.request.path}`;
      setEvaluated({ expression, ok: true, text: answer.defined ? shown(answer.value) : 'nothing (the expression matches no value)', against: `against ${where}, ${answer.ms} ms` });
    } catch (e) {
      setEvaluated({ expression, ok: false, text: describeError(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className={error ? 'jsonata jsonata--error' : 'jsonata'}>
      <div className="jsonata__box" ref={host} />
      {error && (
        <p id={errorId} className="field__error" role="alert">
          {sentence(error)}
        </p>
      )}
      <div className="jsonata__evaluate">
        <button
          type="button"
          className="small"
          aria-label={`Evaluate ${props.label}`}
          disabled={!mayEvaluate || busy || value.trim() === '' || error !== undefined}
          title={mayEvaluate ? 'Evaluate the expression against the preview\'s sample request (Preview tab)' : 'Evaluating needs the editor, publisher or admin role'}
          onClick={() => void evaluate()}
        >
          {busy ? 'Evaluating…' : 'Evaluate'}
        </button>
        <output id={resultId} className={outcome?.ok === false ? 'jsonata__result field__error' : 'jsonata__result'} aria-live="polite" aria-label={`Result of ${props.label}`}>
          {outcome?.ok === true && (
            <>
              = <code>{outcome.text}</code> <span className="muted">({outcome.against})</span>
            </>
          )}
          {outcome?.ok === false && outcome.text}
        </output>
      </div>
    </div>
  );
}

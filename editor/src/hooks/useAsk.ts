import { useCallback, useRef, useState } from 'react';
import type { Question } from '../components/Dialog.tsx';

export interface Ask {
  /** What is being asked now, for <AskDialog question={...} />. */
  question: Question | undefined;
  /** The dialog's answer: resolves the pending question. */
  answer(value: string | true | undefined): void;
  /** Resolves true when the person confirms, false when they cancel. */
  confirm(question: Omit<Question, 'input'>): Promise<boolean>;
  /** Resolves the typed text, or undefined when they cancel. */
  prompt(question: Question & { input: NonNullable<Question['input']> }): Promise<string | undefined>;
}

/**
 * Asks a question in the editor's own dialog (not the browser's window.confirm or prompt, which
 * block the page and cannot be styled or labelled): one question at a time, answered once.
 * @example
 * const ask = useAsk();
 * if (await ask.confirm({ title: 'Retire version 2', text: '…', confirm: 'Retire', danger: true })) retire(2);
 * return <AskDialog question={ask.question} onAnswer={ask.answer} />;
 */
export function useAsk(): Ask {
  const [question, setQuestion] = useState<Question | undefined>();
  const pending = useRef<((value: string | true | undefined) => void) | undefined>(undefined);
  const open = useCallback((q: Question) => {
    pending.current?.(undefined);
    setQuestion(q);
    return new Promise<string | true | undefined>((resolve) => (pending.current = resolve));
  }, []);
  const answer = useCallback((value: string | true | undefined) => {
    const resolve = pending.current;
    pending.current = undefined;
    setQuestion(undefined);
    resolve?.(value);
  }, []);
  const confirm = useCallback((q: Omit<Question, 'input'>) => open(q).then((value) => value === true), [open]);
  const prompt = useCallback((q: Question) => open(q).then((value) => (typeof value === 'string' ? value : undefined)), [open]);
  return { question, answer, confirm, prompt };
}

import { useCallback, useState } from 'react';

type StatusTone = 'info' | 'good' | 'bad';

/** The editor's status line: the outcome of the last action, read out by screen readers. */
export interface StatusLine {
  text: string;
  tone: StatusTone;
}

/** Puts a sentence on the status line. */
export type Say = (text: string, tone?: StatusTone) => void;

/** The status line's text and the one way to change it. */
export function useStatusLine(): { status: StatusLine | undefined; say: Say } {
  const [status, setStatus] = useState<StatusLine | undefined>();
  const say = useCallback<Say>((text, tone = 'info') => setStatus({ text, tone }), []);
  return { status, say };
}

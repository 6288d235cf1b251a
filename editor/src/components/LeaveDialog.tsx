import { useSyncExternalStore } from 'react';
import { leaveQuestion } from '../hooks/useHashRoute.ts';
import { AskDialog } from './Dialog.tsx';

/** Asks before the URL's hash leaves a screen with unsaved edits (useHashRoute's leave guard); rendered once, by the app. */
export function LeaveDialog() {
  const question = useSyncExternalStore(leaveQuestion.subscribe, leaveQuestion.current);
  return <AskDialog question={question} onAnswer={(answer) => leaveQuestion.answer(answer === true)} />;
}

import { useCallback, useState } from 'react';
import type { PathHighlight } from '../editor-context.ts';

/** The side panel's tabs. */
export type SideTab = 'inspect' | 'versions' | 'preview' | 'contract';

export interface EditorPanels {
  tab: SideTab;
  setTab(tab: SideTab): void;
  /** Switches the side panel to the inspector (a node was added, a problem picked, a comparison shown). */
  showInspector(): void;
  problemsOpen: boolean;
  toggleProblems(): void;
  openProblems(): void;
  helpOpen: boolean;
  openHelp(): void;
  closeHelp(): void;
  /** A path the preview or the contract draws over the canvas. */
  highlight: PathHighlight | undefined;
  setHighlight(highlight: PathHighlight | undefined): void;
}

/** Which panels and dialogs of the editor are open, and what the side panels draw over the canvas. */
export function useEditorPanels(): EditorPanels {
  const [tab, showTab] = useState<SideTab>('inspect');
  const [problemsOpen, setProblemsOpen] = useState(true);
  const [helpOpen, setHelpOpen] = useState(false);
  const [highlight, setHighlight] = useState<PathHighlight | undefined>();
  // A drawn path belongs to the tab that drew it: another tab clears it.
  const setTab = useCallback(
    (next: SideTab) => {
      if (next !== tab) setHighlight(undefined);
      showTab(next);
    },
    [tab],
  );
  const showInspector = useCallback(() => setTab('inspect'), [setTab]);
  const toggleProblems = useCallback(() => setProblemsOpen((open) => !open), []);
  const openProblems = useCallback(() => setProblemsOpen(true), []);
  const openHelp = useCallback(() => setHelpOpen(true), []);
  const closeHelp = useCallback(() => setHelpOpen(false), []);
  return { tab, setTab, showInspector, problemsOpen, toggleProblems, openProblems, helpOpen, openHelp, closeHelp, highlight, setHighlight };
}

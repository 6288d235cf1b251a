import { useCallback, useState } from 'react';
import type { PathHighlight } from '../editor-context.ts';
import { storeDirection, type LayoutDirection } from '../graph/layout.ts';

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
  /** The way this workflow is drawn and laid out (remembered per workflow in this browser). */
  direction: LayoutDirection;
  setDirection(direction: LayoutDirection): void;
  /** The palette, the side panel and the minimap: shown or folded away (remembered in this browser). */
  paletteOpen: boolean;
  togglePalette(): void;
  sidebarOpen: boolean;
  toggleSidebar(): void;
  minimapShown: boolean;
  toggleMinimap(): void;
}

/** A switch remembered in localStorage under `sluice.<key>`. */
function useRemembered(key: string, initial: boolean): [boolean, () => void] {
  const [on, setOn] = useState(() => {
    try {
      const stored = window.localStorage.getItem(`sluice.${key}`);
      return stored === null ? initial : stored === 'true';
    } catch {
      return initial;
    }
  });
  const toggle = useCallback(
    () =>
      setOn((was) => {
        try {
          window.localStorage.setItem(`sluice.${key}`, String(!was));
        } catch {
          // private mode: the choice lasts for this page only
        }
        return !was;
      }),
    [key],
  );
  return [on, toggle];
}

/** Which panels and dialogs of the editor are open, and what the side panels draw over the canvas. */
export function useEditorPanels(workflowId: string, initialDirection: () => LayoutDirection): EditorPanels {
  const [tab, showTab] = useState<SideTab>('inspect');
  const [problemsOpen, setProblemsOpen] = useState(true);
  const [helpOpen, setHelpOpen] = useState(false);
  const [highlight, setHighlight] = useState<PathHighlight | undefined>();
  const [direction, keepDirection] = useState(initialDirection);
  const [paletteOpen, togglePalette] = useRemembered('palette-open', true);
  const [sidebarOpen, toggleSidebar] = useRemembered('sidebar-open', true);
  const [minimapShown, toggleMinimap] = useRemembered('minimap-shown', true);
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
  const setDirection = useCallback(
    (next: LayoutDirection) => {
      storeDirection(workflowId, next);
      keepDirection(next);
    },
    [workflowId],
  );
  return {
    tab,
    setTab,
    showInspector,
    problemsOpen,
    toggleProblems,
    openProblems,
    helpOpen,
    openHelp,
    closeHelp,
    highlight,
    setHighlight,
    direction,
    setDirection,
    paletteOpen,
    togglePalette,
    sidebarOpen,
    toggleSidebar,
    minimapShown,
    toggleMinimap,
  };
}

/**
 * Every keyboard shortcut, in one table: the key handler and the help dialog (?) both read it,
 * so the dialog cannot list a shortcut that does not work.
 */
export type ShortcutAction = 'undo' | 'redo' | 'save' | 'delete' | 'duplicate' | 'selectAll' | 'layout' | 'fit' | 'help' | 'palette' | 'deselect' | 'copy' | 'cut' | 'paste' | 'move';

export interface Shortcut {
  action: ShortcutAction;
  keys: string;
  label: string;
  /** Also while typing in a field (undo there undoes the editor's history, which covers the field). */
  inFields?: boolean;
  /** Handled elsewhere (clipboard events, React Flow); listed for the help dialog only. */
  listedOnly?: boolean;
  match(e: KeyboardEvent): boolean;
}

const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;
const key = (e: KeyboardEvent) => e.key.toLowerCase();

export const SHORTCUTS: Shortcut[] = [
  { action: 'undo', keys: 'Ctrl+Z', label: 'Undo', inFields: true, match: (e) => mod(e) && !e.shiftKey && key(e) === 'z' },
  { action: 'redo', keys: 'Ctrl+Shift+Z / Ctrl+Y', label: 'Redo', inFields: true, match: (e) => mod(e) && ((e.shiftKey && key(e) === 'z') || (!e.shiftKey && key(e) === 'y')) },
  { action: 'save', keys: 'Ctrl+S', label: 'Save draft', inFields: true, match: (e) => mod(e) && !e.shiftKey && key(e) === 's' },
  { action: 'copy', keys: 'Ctrl+C', label: 'Copy selected nodes (as JSON, also to other tabs)', listedOnly: true, match: () => false },
  { action: 'cut', keys: 'Ctrl+X', label: 'Cut selected nodes', listedOnly: true, match: () => false },
  { action: 'paste', keys: 'Ctrl+V', label: 'Paste nodes or a workflow JSON', listedOnly: true, match: () => false },
  { action: 'duplicate', keys: 'Ctrl+D', label: 'Duplicate selected nodes', match: (e) => mod(e) && !e.shiftKey && key(e) === 'd' },
  { action: 'delete', keys: 'Delete / Backspace', label: 'Delete selected nodes and edges', match: (e) => !mod(e) && (e.key === 'Delete' || e.key === 'Backspace') },
  { action: 'selectAll', keys: 'Ctrl+A', label: 'Select all nodes', match: (e) => mod(e) && !e.shiftKey && key(e) === 'a' },
  { action: 'deselect', keys: 'Escape', label: 'Clear the selection', match: (e) => e.key === 'Escape' },
  { action: 'layout', keys: 'L', label: 'Auto-layout', match: (e) => !mod(e) && !e.altKey && key(e) === 'l' },
  { action: 'fit', keys: 'F', label: 'Fit the workflow in view', match: (e) => !mod(e) && !e.altKey && key(e) === 'f' },
  { action: 'palette', keys: '/', label: 'Search the palette (Enter adds the focused kind)', match: (e) => !mod(e) && e.key === '/' },
  { action: 'move', keys: 'Arrow keys', label: 'Move the focused node', listedOnly: true, match: () => false },
  { action: 'help', keys: '?', label: 'Show these shortcuts', match: (e) => !mod(e) && e.key === '?' },
];

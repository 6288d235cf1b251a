import { useCallback, useEffect, useRef } from 'react';
import { isTypingTarget } from './useShortcuts.ts';

export interface ClipboardHandlers {
  /** JSON of the selected nodes, or undefined when nothing is selected. */
  copyText(): string | undefined;
  /** Removes what was cut (after it was copied). */
  cut(): void;
  /** Takes pasted text; false when it is not something the canvas can take. */
  paste(text: string): boolean;
  /** Whether pasting and cutting change anything (false for read-only roles). */
  editable: boolean;
}

/**
 * Copy, cut and paste of nodes through the system clipboard, as JSON text, so nodes move between
 * tabs and into files. Keyboard copy/paste uses the clipboard events (no permission prompt);
 * the toolbar buttons use the async Clipboard API and fall back to a clipboard of this tab.
 */
export function useClipboard(handlers: ClipboardHandlers) {
  const latest = useRef(handlers);
  latest.current = handlers;
  const local = useRef<string | undefined>(undefined);

  useEffect(() => {
    // Text being selected or typed keeps the browser's own copy and paste.
    const native = (e: ClipboardEvent) => isTypingTarget(document.activeElement) || (document.getSelection()?.toString() ?? '') !== '' || (e.target as HTMLElement | null)?.closest?.('dialog[open]');
    const onCopy = (e: ClipboardEvent) => {
      if (native(e)) return;
      const text = latest.current.copyText();
      if (text === undefined) return;
      e.clipboardData?.setData('text/plain', text);
      local.current = text;
      e.preventDefault();
    };
    const onCut = (e: ClipboardEvent) => {
      if (native(e) || !latest.current.editable) return;
      onCopy(e);
      if (e.defaultPrevented) latest.current.cut();
    };
    const onPaste = (e: ClipboardEvent) => {
      if (native(e) || !latest.current.editable) return;
      const text = e.clipboardData?.getData('text/plain');
      if (text && latest.current.paste(text)) e.preventDefault();
    };
    document.addEventListener('copy', onCopy);
    document.addEventListener('cut', onCut);
    document.addEventListener('paste', onPaste);
    return () => {
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('cut', onCut);
      document.removeEventListener('paste', onPaste);
    };
  }, []);

  const copy = useCallback(async () => {
    const text = latest.current.copyText();
    if (text === undefined) return false;
    local.current = text;
    await navigator.clipboard?.writeText(text).catch(() => undefined);
    return true;
  }, []);

  const paste = useCallback(async () => {
    const text = await (navigator.clipboard?.readText() ?? Promise.reject(new Error('no clipboard'))).catch(() => local.current);
    return text !== undefined && latest.current.paste(text);
  }, []);

  return { copy, paste };
}

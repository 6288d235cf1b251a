import { useEffect, useRef } from 'react';
import { SHORTCUTS, type ShortcutAction } from '../shortcuts.ts';

/** Fields where keys are text, unless the shortcut says it applies there too. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

/**
 * Runs the handler of the shortcut a key press matches (see shortcuts.ts). Keys pressed inside
 * an open dialog or a field marked `data-native-keys` (search boxes) are left to the browser.
 */
export function useShortcuts(handlers: Partial<Record<ShortcutAction, () => void>>): void {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.defaultPrevented) return;
      const target = e.target as HTMLElement | null;
      if (target?.closest?.('dialog[open], [data-native-keys]')) return;
      const typing = isTypingTarget(target);
      for (const shortcut of SHORTCUTS) {
        if (shortcut.listedOnly || !shortcut.match(e)) continue;
        if (typing && !shortcut.inFields) return;
        const handler = latest.current[shortcut.action];
        if (!handler) return;
        e.preventDefault();
        handler();
        return;
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}

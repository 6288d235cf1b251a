import { useEffect, useRef, useState } from 'react';
import type { Question } from '../components/Dialog.tsx';

/** A workflow's screen: its editor on the draft, a version read-only (`version`) or its contract for people (`page: 'contract'`). */
export type Route =
  | { screen: 'list' }
  | { screen: 'partners' }
  | { screen: 'errors' }
  | { screen: 'rules' }
  | { screen: 'traffic'; query: string }
  | { screen: 'fragments' }
  | { screen: 'fragment'; id: string }
  | { screen: 'workflow'; id: string; version?: number; page?: 'contract' };

function parse(hash: string): Route {
  if (/^#\/partners\/?$/.test(hash)) return { screen: 'partners' };
  if (/^#\/errors\/?$/.test(hash)) return { screen: 'errors' };
  if (/^#\/rules\/?$/.test(hash)) return { screen: 'rules' };
  const traffic = /^#\/traffic\/?(?:\?(.*))?$/.exec(hash);
  if (traffic) return { screen: 'traffic', query: traffic[1] ?? '' };
  if (/^#\/fragments\/?$/.test(hash)) return { screen: 'fragments' };
  const fragment = /^#\/fragments\/([^/?#]+)\/?$/.exec(hash);
  if (fragment) return { screen: 'fragment', id: decodeURIComponent(fragment[1]!) };
  const match = /^#\/workflows\/([^/?#]+)(?:\/versions\/([1-9][0-9]{0,8})|\/(contract))?/.exec(hash);
  if (!match) return { screen: 'list' };
  return { screen: 'workflow', id: decodeURIComponent(match[1]!), ...(match[2] ? { version: Number(match[2]) } : {}), ...(match[3] ? { page: 'contract' as const } : {}) };
}

const sameRoute = (a: Route, b: Route) => a.screen === b.screen && (!('id' in a) || a.id === (b as { id: string }).id);

/** What to ask before the hash leaves the screen shown, or undefined to just go (an editor with unsaved edits asks). */
type LeaveGuard = () => Question | undefined;
let guard: LeaveGuard | undefined;

/** Sets the question asked before the hash leaves the screen; returns the function that removes it. */
export function setLeaveGuard(next: LeaveGuard): () => void {
  guard = next;
  return () => {
    if (guard === next) guard = undefined;
  };
}

/** Set by goWithoutAsking: the next hash change was confirmed already. */
let confirmed = false;

/** Goes to `hash` without the leave question: for a link that asked its own question first. */
export function goWithoutAsking(hash: string): void {
  confirmed = true;
  window.location.hash = hash;
}

/** The leave question being asked, for LeaveDialog (an external store: the hash route lives outside React's tree). */
let pending: { question: Question; resolve(go: boolean): void } | undefined;
const listeners = new Set<() => void>();
export const leaveQuestion = {
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  },
  current: () => pending?.question,
  /** true: leave (the hash's new screen shows); false: stay (the hash is put back). */
  answer(go: boolean) {
    const asked = pending;
    pending = undefined;
    for (const listener of listeners) listener();
    asked?.resolve(go);
  },
};

function askLeave(question: Question): Promise<boolean> {
  return new Promise((resolve) => {
    pending = { question, resolve };
    for (const listener of listeners) listener();
  });
}

/**
 * The screen in the URL's hash (`#/workflows/orders`). A hash route needs no server fallback,
 * so /editor/ is a plain static directory and links and reloads still land on the workflow.
 * A hash change away from a screen with a leave guard (unsaved edits) asks first, in the app's
 * own dialog: Stay puts the old hash back, Discard goes.
 */
export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  const shown = useRef(route);
  shown.current = route;
  useEffect(() => {
    let asking = false;
    const onChange = (event: HashChangeEvent) => {
      const next = parse(window.location.hash);
      const question = sameRoute(next, shown.current) || confirmed ? undefined : guard?.();
      confirmed = false;
      if (question === undefined) {
        setRoute(next);
        return;
      }
      // Asked already: the answer decides for the hash as it is then.
      if (asking) return;
      asking = true;
      const back = event.oldURL;
      void askLeave(question).then((go) => {
        asking = false;
        if (go) setRoute(parse(window.location.hash));
        else window.history.replaceState(window.history.state, '', back);
      });
    };
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export const workflowHref = (id: string) => `#/workflows/${encodeURIComponent(id)}`;
export const versionHref = (id: string, version: number) => `${workflowHref(id)}/versions/${version}`;
export const contractHref = (id: string) => `${workflowHref(id)}/contract`;
export const listHref = '#/';
export const partnersHref = '#/partners';
export const errorsHref = '#/errors';
export const rulesHref = '#/rules';
export const fragmentsHref = '#/fragments';
export const fragmentHref = (id: string) => `${fragmentsHref}/${encodeURIComponent(id)}`;

import { createContext, useContext } from 'react';
import type { Api } from './api/client.ts';
import type { Identity, KindInfo } from './api/types.ts';
import { createMarksStore, type MarksStore } from './graph/marks.ts';
import type { LiveCounts } from './hooks/useLiveCounts.ts';

/** The signed-in session: the API with its token, and who the token belongs to. */
export interface Session {
  api: Api;
  identity: Identity;
  signOut(reason?: string): void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSessionContext(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSessionContext outside a signed-in session');
  return session;
}

/** Kinds by name, from GET /admin/api/kinds; stable for the life of the editor. */
export interface KindIndex {
  categories: string[];
  list: KindInfo[];
  get(kind: string): KindInfo | undefined;
  isTerminal(kind: string): boolean;
  /** The node's class names by kind, computed once so the node component builds no strings for them. */
  classOf(kind: string): string;
}

export function kindIndex(categories: string[], list: KindInfo[]): KindIndex {
  const byName = new Map(list.map((k) => [k.kind, k]));
  const classes = new Map(list.map((k) => [k.kind, `kind-node kind-node--${k.category.toLowerCase()}`]));
  return {
    categories,
    list,
    get: (kind) => byName.get(kind),
    isTerminal: (kind) => byName.get(kind)?.terminal === true,
    classOf: (kind) => classes.get(kind) ?? 'kind-node kind-node--unknown',
  };
}

export const KindsContext = createContext<KindIndex>(kindIndex([], []));
/** Node marks of the canvas being drawn (problems, wiring, start, diff). */
export const MarksContext = createContext<MarksStore>(createMarksStore());
/** True when the canvas may not be changed: a read-only role, or a diff being shown. */
export const ReadOnlyContext = createContext<boolean>(false);
/** Live counts drawn over the canvas, while live mode is on. */
export const LiveContext = createContext<LiveCounts | undefined>(undefined);
/** A path drawn over the canvas (a preview's trace, a contract entry's way there): its nodes (with durations) and edges. */
export interface PathHighlight {
  /** What the path is, for the status line and the canvas's label. */
  label: string;
  nodes: Map<string, { ms?: number | undefined }>;
  /** `${source}\u0000${port}` of each edge taken. */
  edges: Set<string>;
}
export const HighlightContext = createContext<PathHighlight | undefined>(undefined);
/** Which way the canvas is drawn: handles on the left and right (LR), or on the top and bottom (TB). */
export const DirectionContext = createContext<'LR' | 'TB'>('LR');

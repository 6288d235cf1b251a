/**
 * What the canvas shows on a node beyond its own data: validation problems, which ports are
 * wired, whether it is the start, and its part in a diff. Kept outside the nodes so a new
 * validation result redraws only the nodes whose marks changed (each node subscribes to its own).
 */
import type { ValidationProblem } from '../api/types.ts';

export type DiffMark = 'added' | 'removed' | 'changed';

export interface NodeMarks {
  problems: ValidationProblem[];
  /** Names of ports with an edge. */
  wired: ReadonlySet<string>;
  /** Ports a problem is about (unwired, wired twice, closing a cycle). */
  portProblems: ReadonlySet<string>;
  start: boolean;
  diff: DiffMark | undefined;
  /** Fields a diff found changed, for the node's tooltip. */
  changedFields: string[];
  /** Compares marks by value, so an unchanged node keeps the same marks object. */
  key: string;
}

const NO_MARKS: NodeMarks = { problems: [], wired: new Set(), portProblems: new Set(), start: false, diff: undefined, changedFields: [], key: '' };

interface MarksInput {
  problems: ValidationProblem[];
  edges: ReadonlyArray<{ source: string; sourceHandle?: string | null }>;
  start: string | undefined;
  diff?: ReadonlyMap<string, { mark: DiffMark; fields: string[] }>;
}

export interface MarksStore {
  get(id: string): NodeMarks;
  subscribe(listener: () => void): () => void;
  update(nodeIds: Iterable<string>, input: MarksInput): void;
}

/** The marks store of one canvas. */
export function createMarksStore(): MarksStore {
  let marks = new Map<string, NodeMarks>();
  const listeners = new Set<() => void>();
  return {
    get: (id) => marks.get(id) ?? NO_MARKS,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    update(nodeIds, input) {
      const problems = new Map<string, ValidationProblem[]>();
      for (const p of input.problems) if (p.node !== undefined) (problems.get(p.node) ?? problems.set(p.node, []).get(p.node)!).push(p);
      const wired = new Map<string, string[]>();
      for (const e of input.edges) if (e.sourceHandle) (wired.get(e.source) ?? wired.set(e.source, []).get(e.source)!).push(e.sourceHandle);
      const next = new Map<string, NodeMarks>();
      let changed = false;
      for (const id of nodeIds) {
        const diff = input.diff?.get(id);
        const mine = problems.get(id) ?? [];
        const wiredText = (wired.get(id) ?? []).sort().join(' ');
        const key = `${mine.map((p) => `${p.code}|${p.field ?? ''}|${p.message}`).join('\n')}#${wiredText}#${input.start === id}#${diff?.mark ?? ''}:${diff?.fields.join(',') ?? ''}`;
        const old = marks.get(id);
        if (old && old.key === key) next.set(id, old);
        else {
          changed = true;
          const portProblems = new Set(mine.flatMap((p) => (p.field?.startsWith('ports.') ? [p.field.slice(6)] : [])));
          next.set(id, { problems: mine, wired: new Set(wired.get(id)), portProblems, start: input.start === id, diff: diff?.mark, changedFields: diff?.fields ?? [], key });
        }
      }
      if (!changed && next.size === marks.size) return;
      marks = next;
      for (const listener of listeners) listener();
    },
  };
}

import { useLayoutEffect, useMemo } from 'react';
import type { ValidationProblem } from '../api/types.ts';
import type { FlowModel } from '../graph/convert.ts';
import { createMarksStore, type MarksStore } from '../graph/marks.ts';
import type { Comparison } from './useVersionCompare.ts';

/**
 * The marks the canvas's nodes draw (problems, wiring, start; or a comparison's added, changed
 * and removed), kept in a store so a node redraws only when its own marks change.
 */
export function useCanvasMarks(present: FlowModel, problems: ValidationProblem[], start: string | undefined, comparison: Comparison | undefined): MarksStore {
  const marks = useMemo(() => createMarksStore(), []);
  // Marks before paint, so a node never flashes without its problem badge.
  useLayoutEffect(() => {
    if (comparison) marks.update(comparison.nodes.map((n) => n.id), { problems: [], edges: comparison.edges, start: undefined, diff: comparison.marks });
    else marks.update(present.nodes.map((n) => n.id), { problems, edges: present.edges, start });
  }, [marks, comparison, present, problems, start]);
  return marks;
}

import { useCallback, useEffect, useState } from 'react';
import type { ValidationProblem } from '../api/types.ts';
import { fieldDomId } from '../components/FieldFrame.tsx';
import type { FlowModel } from '../graph/convert.ts';
import { select } from '../graph/operations.ts';
import type { CanvasView } from './useCanvasView.ts';
import type { EditorModel } from './useEditorModel.ts';

export interface ProblemFocusOptions {
  model: EditorModel;
  /** The canvas as it is now, read when a problem is picked. */
  latest: { readonly current: FlowModel };
  view: CanvasView;
  /** A comparison is shown: picking a problem closes it, for the problem is in the draft. */
  comparing: boolean;
  dismissComparison(): void;
  showInspector(): void;
}

/**
 * Picking a problem in the problems panel: selects its node (or none, for a workflow setting),
 * centres the view on it, and moves focus to the field once the inspector shows it.
 */
export function useProblemFocus({ model, latest, view, comparing, dismissComparison, showInspector }: ProblemFocusOptions): (problem: ValidationProblem) => void {
  const [focus, setFocus] = useState<{ scope: string; field: string } | undefined>();

  const pickProblem = useCallback(
    (p: ValidationProblem) => {
      if (comparing) dismissComparison();
      showInspector();
      const node = p.node === undefined ? undefined : latest.current.nodes.find((n) => n.id === p.node);
      model.transient((m) => select(m, node ? new Set([node.id]) : new Set()));
      if (node) view.centreOn(node);
      setFocus({ scope: node ? node.id : 'workflow', field: p.field ?? '' });
    },
    [comparing, dismissComparison, showInspector, latest, model, view],
  );

  useEffect(() => {
    if (!focus) return;
    const frame = requestAnimationFrame(() => {
      const target = window.document.getElementById(fieldDomId(focus.scope, focus.field)) ?? window.document.querySelector<HTMLElement>('.inspector h2');
      if (target instanceof HTMLElement) {
        if (!target.hasAttribute('tabindex') && target.tagName === 'H2') target.tabIndex = -1;
        target.focus();
        target.scrollIntoView({ block: 'nearest' });
      }
      setFocus(undefined);
    });
    return () => cancelAnimationFrame(frame);
  }, [focus]);

  return pickProblem;
}

import { useEffect, useMemo, useRef, useState } from 'react';
import { validateFragment, validateWorkflow } from '../../../shared/compile/index.ts';
import type { Api } from '../api/client.ts';
import { ApiError } from '../api/client.ts';
import type { ValidationProblem } from '../api/types.ts';
import { toDocument, type DraftDocument, type FlowModel } from '../graph/convert.ts';
import { modelToFragment } from '../fragments/fragment-model.ts';

/** What is checked: a workflow, or a fragment (its exits drawn as nodes, checked as the workflows that use it will check it). */
type Subject = 'workflow' | 'fragment';

const CHECKS = {
  workflow: { document: toDocument, local: validateWorkflow, server: (api: Api, id: string, document: DraftDocument) => api.validate(id, document) },
  fragment: { document: modelToFragment, local: validateFragment, server: (api: Api, id: string, document: DraftDocument) => api.validateFragment(id, document) },
} as const;

/** Long enough to wait out a burst of keystrokes, short enough to feel live. */
const VALIDATE_DEBOUNCE_MS = 350;

export interface Validation {
  problems: ValidationProblem[];
  /** A check is waiting or running for the latest change. */
  checking: boolean;
  /** 'server': as a publish would check (catalog, other routes, key files); 'local': the graph rules only. */
  source: 'server' | 'local';
  /** Why the last check could not run, if it could not. */
  error: string | undefined;
}

/**
 * Validates the present step of the workflow, debounced. Who may edit gets the admin API's check
 * (exactly what publishing will say); read-only roles, who may not call it, get the shared graph
 * rules run in the browser. The problems stay as the last finished check found them until the
 * check of the latest change answers (an answer about a text typed over since is dropped), so
 * while an invalid config is typed the list is steady: it changes when a check of what is on
 * screen says something else, and empties only when that check finds nothing. `checking` says a
 * newer check is pending; it never hides the problems.
 */
export function useValidation(api: Api, id: string, present: FlowModel, serverSide: boolean, subject: Subject = 'workflow'): Validation {
  const checks = CHECKS[subject];
  // Layout does not change what is valid: a drag does not start a check.
  const { key, document } = useMemo(() => {
    const document = checks.document(present);
    const { layout: _layout, ...rest } = document;
    return { key: JSON.stringify(rest), document };
  }, [present, checks]);
  const [state, setState] = useState<Validation>({ problems: [], checking: true, source: serverSide ? 'server' : 'local', error: undefined });
  const round = useRef(0);

  useEffect(() => {
    const mine = ++round.current;
    if (!serverSide) {
      const result = checks.local(document);
      setState({ problems: result.ok ? [] : result.problems, checking: false, source: 'local', error: undefined });
      return;
    }
    setState((s) => (s.checking ? s : { ...s, checking: true }));
    const timer = setTimeout(() => {
      checks.server(api, id, document).then(
        (result) => mine === round.current && setState({ problems: result.problems, checking: false, source: 'server', error: undefined }),
        (error: unknown) => {
          if (mine !== round.current) return;
          // A body the API refuses outright (400) still lists its problems; a check that could not
          // run at all (network, 5xx) says so and keeps the problems known so far: an outage does
          // not make the draft's problems vanish and come back.
          const listed = error instanceof ApiError ? error.problem.problems : undefined;
          const message = error instanceof Error ? error.message : String(error);
          setState((s) => ({ problems: listed ?? s.problems, checking: false, source: 'server', error: message }));
        },
      );
    }, VALIDATE_DEBOUNCE_MS);
    return () => clearTimeout(timer);
    // oxlint-disable-next-line react/exhaustive-deps -- `document` changes with `key`, keyed on the text so a layout-only change does not re-check
  }, [api, id, key, serverSide, checks]);

  return state;
}

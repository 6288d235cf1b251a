import { useCallback, useState } from 'react';
import type { Api } from '../api/client.ts';
import { useLiveCounts, type LiveCounts } from './useLiveCounts.ts';

export interface LiveMode {
  on: boolean;
  toggle(): void;
  /** The partner whose traffic is counted; undefined for all. */
  partner: string | undefined;
  setPartner(partner: string | undefined): void;
  counts: LiveCounts | undefined;
  error: string | undefined;
}

/** Live mode: the gateway's counts drawn over the canvas while it is on and a version serves. */
export function useLiveMode(api: Api, workflowId: string, served: boolean): LiveMode {
  const [on, setOn] = useState(false);
  const [partner, setPartner] = useState<string | undefined>();
  const { counts, error } = useLiveCounts(api, workflowId, on && served, partner);
  const toggle = useCallback(() => setOn((was) => !was), []);
  return { on, toggle, partner, setPartner, counts, error };
}

/** Shapes of the preview endpoints (simulate, contract, tests), as the engine answers them. */
export type { ContractEntry, ContractStep } from '../../../shared/compile/contract.ts';

export interface SampleRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface UpstreamMock {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface TraceStep {
  node: string;
  kind: string;
  port: string;
  ms: number;
  input: Record<string, unknown>;
  changes: Array<{ field: string; before: unknown; after: unknown }>;
  error?: string;
}

export type SimulationResult =
  | { ok: false; problems: Array<{ code: string; message: string; node?: string; field?: string }> }
  | { ok: true; response: { status: number; headers: Record<string, string>; body: unknown }; trace: TraceStep[]; path: string[]; outcome: string; error?: string; ms: number };

export interface TestVerdict {
  name: string;
  passed: boolean;
  failures: Array<{ what: string; expected: unknown; actual: unknown }>;
}

/**
 * What the preview endpoints (simulate, workflow tests) take and answer: one definition for the
 * engine that produces them and the editor that shows them.
 */
import type { ValidationProblem } from '../compile/validate.ts';

/** What a mocked upstream answers. */
export interface UpstreamMock {
  status: number;
  headers?: Record<string, string> | undefined;
  body?: unknown;
}

/** A sample request, as the preview panel and workflow tests write it. */
export interface SampleRequest {
  method: string;
  /** The path, optionally with a query string. */
  path: string;
  query?: Record<string, string> | undefined;
  headers?: Record<string, string> | undefined;
  body?: unknown;
  /** A demo token with these claims is minted when the request runs and sent as its bearer token. */
  token?: { sub: string; scopes?: string[] | undefined; partner?: string | undefined; claims?: Record<string, unknown> | undefined } | undefined;
  /** An API key with the partner and scopes of this partner key (`key`, its id) or inline key (`hash`) is minted when the request runs. */
  apiKey?: { key?: string | undefined; hash?: string | undefined; header?: string | undefined } | undefined;
  /** The run presents a verified client certificate matching this partner's registered certificate (`certificate`, its id; absent: the first the client-cert nodes match). */
  clientCert?: { partner: string; certificate?: string | undefined } | undefined;
  /** The run signs the request with an HMAC secret minted for it and mapped to this partner (never the partner's own secret). */
  hmac?: { partner: string } | undefined;
  /** The run sends an opaque token that a stand-in authorization server, asked instead of the real one, finds active for this partner. */
  introspected?: { partner: string; scopes?: string[] | undefined; sub?: string | undefined } | undefined;
}

/** What a node read and did, for the trace. */
export interface TraceStep {
  node: string;
  kind: string;
  /** The port it left by; `$fault` when it failed. */
  port: string;
  ms: number;
  /** The exchange as the node found it (credentials redacted). */
  input: Record<string, unknown>;
  /** What the node changed: claims, partner, vars, the request or the response. */
  changes: Array<{ field: string; before: unknown; after: unknown }>;
  error?: string;
}

export interface SimulatedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type SimulationResult =
  | { ok: false; problems: ValidationProblem[] }
  | { ok: true; response: SimulatedResponse; trace: TraceStep[]; path: string[]; outcome: 'finish' | 'raise' | 'fault' | 'unrouted'; error?: string; ms: number };

/** One workflow test's verdict: what it expected and what it got, where they differ. */
export interface TestVerdict {
  name: string;
  passed: boolean;
  failures: Array<{ what: string; expected: unknown; actual: unknown }>;
  response?: SimulatedResponse;
  path?: string[];
}

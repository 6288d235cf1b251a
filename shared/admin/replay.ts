/**
 * Differential replay (POST /workflows/:id/compare): recent recorded requests and the workflow
 * tests, run through two versions in the simulator, and the ones whose answer changes. What it
 * answers names outcomes and the redacted request line only: never a header, body or credential.
 */
import { z } from 'zod';

/** A version to compare: the draft, the active version or a number. */
const compareVersion = z.union([z.literal('draft'), z.literal('active'), z.number().int().min(1)]);

/** The body of POST /workflows/:id/compare. */
export const compareBodySchema = z
  .object({
    from: compareVersion.default('active').meta({ description: 'The version requests are replayed through first (default: the active version).' }),
    to: compareVersion.default('draft').meta({ description: 'The version they are compared with (default: the draft).' }),
  })
  .strict();

/** How one request ended in one version. */
const replayOutcomeSchema = z.object({
  status: z.number().int(),
  /** As logs and metrics name it: ok, invalid_credentials, denied, limited, rejected, upstream_error, error. */
  outcome: z.string(),
  /** The problem type of an error answer. */
  problem: z.string().optional(),
  /** The node and port the walk left the way to the upstream by, for an error answer. */
  node: z.string().optional(),
  port: z.string().optional(),
});

/** A request whose answer changes: its redacted request line, never its headers or body. */
const replayedRequestSchema = z.object({
  method: z.string(),
  /** Path and query with every credential parameter removed. */
  path: z.string(),
  partner: z.string().optional(),
  /** When it was received (recorded traffic). */
  at: z.string().optional(),
  /** The workflow test it is (tests of the draft). */
  test: z.string().optional(),
});

/** Requests that change the same way. */
const replayChangeSchema = z.object({
  count: z.number().int(),
  from: replayOutcomeSchema,
  to: replayOutcomeSchema,
  /** The first of them (at most 50); `count` says how many there are. */
  requests: z.array(replayedRequestSchema),
});

/** POST /workflows/:id/compare: how many were replayed, and the changed ones grouped by change. */
export const compareAnswerSchema = z.object({
  workflow: z.string(),
  from: z.union([z.number().int(), z.literal('draft')]),
  to: z.union([z.number().int(), z.literal('draft')]),
  /** Requests replayed through both: recorded ones and workflow tests. */
  total: z.number().int(),
  recorded: z.number().int(),
  tests: z.number().int(),
  /** Requests that could not be replayed (a partner key revoked since, a demo token with the demo issuer off), with why. */
  skipped: z.array(z.object({ method: z.string(), path: z.string(), test: z.string().optional(), reason: z.string() })),
  changed: z.array(replayChangeSchema),
  /** The change in words: "14 requests: 200 -> 403 at scopes.denied". */
  summary: z.string(),
});

export type CompareAnswer = z.infer<typeof compareAnswerSchema>;
export type ReplayOutcome = z.infer<typeof replayOutcomeSchema>;
export type ReplayedRequest = z.infer<typeof replayedRequestSchema>;

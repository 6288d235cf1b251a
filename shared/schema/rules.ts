import { z } from 'zod';
import { isKindName } from '../nodes/index.ts';
import { idSchema } from './workflow.ts';

/*
 * Organisation rules: what a security team requires of every workflow, as data an admin stores
 * and validation evaluates over the validated graph (shared/compile/rules.ts). No rule holds code
 * or a regular expression: an admin-supplied regex could take exponential time on a crafted URL.
 * Every list and text is bounded, so evaluating a rule set over the largest graph stays linear.
 */

/** How large a rule set may be: it is evaluated on every validate and publish. */
export const RULE_LIMITS = Object.freeze({ rules: 50, kinds: 30, groups: 10, statuses: 50, allow: 100, entryLength: 2_048, description: 500 });

/** A node kind the registry knows: a misspelt kind would make a rule silently match nothing. */
const kindSchema = z
  .string()
  .max(64)
  .refine((kind): boolean => isKindName(kind), { error: (issue) => `"${String(issue.input)}" is not a node kind` });
const kindsSchema = z.array(kindSchema).min(1).max(RULE_LIMITS.kinds);

const ruleBase = {
  id: idSchema.meta({ description: 'Names the rule in problems and the audit log.' }),
  description: z.string().trim().min(1).max(RULE_LIMITS.description).meta({ description: 'What the rule is for, quoted in every problem it reports.' }),
};

const everyPathSchema = z
  .object({
    ...ruleBase,
    form: z.literal('every-path'),
    to: kindsSchema.meta({ description: 'The kinds of node a path leads to (e.g. ["proxy"]).' }),
    passes: z
      .array(kindsSchema)
      .min(1)
      .max(RULE_LIMITS.groups)
      .meta({ description: 'Groups of kinds: every path from the start to such a node passes, for each group, a node of one of its kinds and leaves it by its success (first) port.' }),
  })
  .strict();

/** A status class (`2xx`) or explicit statuses. */
const statusesSchema = z.union([z.enum(['1xx', '2xx', '3xx', '4xx', '5xx']), z.array(z.number().int().min(100).max(599)).min(1).max(RULE_LIMITS.statuses)]);

const noSuccessWithoutSchema = z
  .object({
    ...ruleBase,
    form: z.literal('no-success-without'),
    passes: kindsSchema.meta({ description: 'No respond node answering one of `statuses` is reachable on a path that passes none of these kinds (left by its success port).' }),
    statuses: statusesSchema.default('2xx').meta({ description: 'The answers held to the rule: a class such as "2xx" (the default) or a list of statuses.' }),
  })
  .strict();

/** `${NAME}`: URLs whose base an operator sets in the environment variable NAME. */
const ENV_ENTRY = /^\$\{[A-Z_][A-Z0-9_]*\}$/;
/** `host`, `host:port`, `*.domain` or `*.domain:port`, in lower case, as SLUICE_CALLOUT_HOSTS names them. */
const HOST_ENTRY = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$/;

/** Why an allow entry is not one, or undefined when it is. */
function allowEntryProblem(entry: string): string | undefined {
  if (ENV_ENTRY.test(entry) || HOST_ENTRY.test(entry)) return undefined;
  if (!/^https?:\/\//i.test(entry)) return 'must be a URL prefix (https://host[:port][/path]), a host, *.domain (its subdomains), or ${NAME}; no patterns';
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return 'is not a URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry a user or password';
  if (url.search !== '' || url.hash !== '' || entry.includes('?') || entry.includes('#')) return 'must be a prefix: scheme, host, port and path, without a query or fragment';
  if (url.hostname.includes('*')) return 'a URL prefix names one host; write *.domain alone for its subdomains';
  return undefined;
}

const allowEntrySchema = z
  .string()
  .min(1)
  .max(RULE_LIMITS.entryLength)
  .superRefine((entry, ctx) => {
    const problem = allowEntryProblem(entry);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const urlAllowListSchema = z
  .object({
    ...ruleBase,
    form: z.literal('url-allow-list'),
    allow: z
      .array(allowEntrySchema)
      .min(1)
      .max(RULE_LIMITS.allow)
      .meta({ description: 'Where a workflow may send requests: URL prefixes (https://api.example.com/v1), hosts (api.example.com, api.example.com:8443), *.domain for its subdomains, or ${NAME} for URLs based on that operator variable.' }),
  })
  .strict();

export const ruleSchema = z.discriminatedUnion('form', [everyPathSchema, noSuccessWithoutSchema, urlAllowListSchema]);
export type Rule = z.infer<typeof ruleSchema>;

/** The organisation's rules, as an admin stores them (PUT /rules). */
export const ruleSetSchema = z
  .object({ rules: z.array(ruleSchema).max(RULE_LIMITS.rules).meta({ description: `At most ${RULE_LIMITS.rules} rules, each with its own id.` }) })
  .strict()
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `rule id "${rule.id}" is used twice` });
      seen.add(rule.id);
    });
  });
export type RuleSet = z.infer<typeof ruleSetSchema>;

import { z } from 'zod';
import { defineKind } from './kind.ts';

/** Most deny or allow patterns a node has; each is matched against every text of the prompt. */
const MAX_GUARD_PATTERNS = 50;
/** Longest pattern, in characters. */
const MAX_GUARD_PATTERN_CHARS = 1_000;

const action = (name: string, what: string) =>
  z.enum(['off', 'block', 'redact']).default('off').meta({ title: name, description: `${what}: \`block\` refuses the request, \`redact\` replaces each in the message texts with "[${name.toLowerCase()}]" before later nodes see them.` });

const patterns = (title: string, description: string) =>
  z
    .array(z.string().min(1).max(MAX_GUARD_PATTERN_CHARS))
    .max(MAX_GUARD_PATTERNS)
    .default([])
    .meta({ title, description });

/** Why a pattern is no JavaScript regular expression, or undefined (RE2's own check is the engine's, at publish). */
function patternError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (error) {
    return `not a regular expression: ${(error as Error).message}`;
  }
}

const promptGuardConfig = z
  .object({
    maxInputTokens: z.number().int().min(1).max(10_000_000).optional().meta({ title: 'Maximum input tokens', description: 'The prompt\'s texts may hold at most this many tokens (o200k_base, counted off the gateway\'s thread; estimated at 4 characters a token when the counter cannot answer in time).' }),
    deny: patterns('Deny patterns', 'Regular expressions (JavaScript syntax, run on RE2 in linear time): a prompt with a text that matches one is refused, naming the pattern by its number.'),
    allow: patterns('Allow patterns', 'When given, a prompt is refused unless one of its texts matches one of them.'),
    ignoreCase: z.boolean().default(true).meta({ title: 'Ignore case', description: 'Patterns match regardless of letter case.' }),
    detectors: z
      .object({
        card: action('Card', 'Payment card numbers (13-19 digits passing the Luhn check)'),
        iban: action('IBAN', 'IBANs (the country\'s length, passing the mod-97 check)'),
        email: action('Email', 'E-mail addresses'),
        phone: action('Phone', 'Phone numbers (9-15 digits written with separators, or 7-15 after a +)'),
      })
      .strict()
      .default({ card: 'off', iban: 'off', email: 'off', phone: 'off' })
      .meta({ title: 'Personal data detectors', description: 'Personal data (PII) found in the message texts, each detector off, blocking or redacting. Redaction rewrites the request body (JSON) for the nodes after this one.' }),
    nonLlm: z.enum(['block', 'pass']).default('block').meta({ title: 'Other bodies', description: 'A body that is no OpenAI or Anthropic request (chat, completions, embeddings, responses, messages): `block` refuses it (nothing unread passes the guard), `pass` lets it through unchecked.' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const field of ['deny', 'allow'] as const)
      c[field].forEach((source, i) => {
        const problem = patternError(source);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [field, i], message: problem });
      });
    const checks = c.maxInputTokens !== undefined || c.deny.length > 0 || c.allow.length > 0 || Object.values(c.detectors).some((a) => a !== 'off');
    if (!checks) ctx.addIssue({ code: 'custom', path: ['maxInputTokens'], message: 'give at least one check: maxInputTokens, deny or allow patterns, or a detector' });
  });

export type PromptGuardConfig = z.infer<typeof promptGuardConfig>;

export const promptGuardKind = defineKind<PromptGuardConfig>({
  kind: 'prompt-guard',
  title: 'Prompt guard',
  category: 'Access',
  description: 'Checks an LLM request\'s messages (OpenAI or Anthropic bodies): a maximum of input tokens, deny and allow patterns (linear-time regexes compiled at publish) and PII detectors (e-mail, card numbers, IBANs, phone numbers) that block or redact. A refusal names the rule, never the text it matched.',
  config: promptGuardConfig,
  ports: () => [
    { name: 'ok', description: 'The prompt passes every check (redacted where a detector says so).', unwired: 'required' },
    { name: 'blocked', description: 'A check refused the prompt: the problem names the rule.', unwired: { error: 'prompt_blocked' } },
  ],
  errors: ['prompt_blocked'],
  expressions: () => [],
  readsRequestBody: () => true,
});

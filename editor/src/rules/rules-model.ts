import type { Rule } from '../../../shared/schema/rules.ts';

/** Kinds in words: "jwt-verify, api-key or introspect". */
const anyOf = (kinds: readonly string[]) => (kinds.length === 1 ? kinds[0]! : `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}`);

/** What a rule requires, in one sentence. */
export function ruleWords(rule: Rule): string {
  switch (rule.form) {
    case 'every-path':
      return `Every path from the start to ${anyOf(rule.to)} first passes ${rule.passes.map(anyOf).join(', and ')}.`;
    case 'no-success-without':
      return `No respond node answers ${typeof rule.statuses === 'string' ? rule.statuses : rule.statuses.join(', ')} on a path that passes none of ${anyOf(rule.passes)}.`;
    case 'url-allow-list':
      return `Every URL a workflow sends requests to is within ${anyOf(rule.allow)}.`;
  }
}

/** A rule of each form to start from, as the JSON the page edits. */
export const RULE_TEMPLATES: Record<Rule['form'], Rule> = {
  'every-path': { id: 'guarded-upstream', description: 'Every upstream call is authenticated and rate limited', form: 'every-path', to: ['proxy'], passes: [['jwt-verify', 'api-key', 'introspect'], ['rate-limit']] },
  'no-success-without': { id: 'no-anonymous-success', description: 'No success answer without an identity', form: 'no-success-without', passes: ['jwt-verify', 'api-key', 'introspect'], statuses: '2xx' },
  'url-allow-list': { id: 'approved-upstreams', description: 'Upstreams on approved hosts only', form: 'url-allow-list', allow: ['https://api.example.com', '*.internal.example.com', '${SLUICE_UPSTREAM_ORDERS}'] },
};

/** The rule set as the page's text shows it. */
export const rulesText = (rules: readonly Rule[]) => `${JSON.stringify({ rules }, null, 2)}\n`;

/**
 * The text with a rule of `form` appended (its id numbered past those taken), or undefined when
 * the text is not a rule set's JSON yet.
 */
export function withTemplate(text: string, form: Rule['form']): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const rules = (parsed as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return undefined;
  const taken = new Set(rules.map((r: { id?: unknown } | null) => r?.id));
  const template = RULE_TEMPLATES[form];
  let id = template.id;
  for (let n = 2; taken.has(id); n++) id = `${template.id}-${n}`;
  return rulesText([...(rules as Rule[]), { ...template, id }]);
}

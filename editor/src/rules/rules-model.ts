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

/** A rule as its form edits it: lists as the text typed (kinds comma-separated, one allow entry per line). */
export interface RuleFields {
  id: string;
  description: string;
  form: Rule['form'];
  /** every-path: the kinds paths lead to. */
  to: string;
  /** every-path: one text per group; no-success-without: the one group. */
  groups: string[];
  /** no-success-without: "2xx" or "200, 201". */
  statuses: string;
  /** url-allow-list: one entry per line. */
  allow: string;
}

const kindsText = (kinds: readonly string[]) => kinds.join(', ');
const kindsOf = (text: string) => text.split(',').map((k) => k.trim()).filter((k) => k !== '');

export function ruleFields(rule: Rule): RuleFields {
  const base = { id: rule.id, description: rule.description, form: rule.form, to: '', groups: [''], statuses: '2xx', allow: '' };
  switch (rule.form) {
    case 'every-path':
      return { ...base, to: kindsText(rule.to), groups: rule.passes.map(kindsText) };
    case 'no-success-without':
      return { ...base, groups: [kindsText(rule.passes)], statuses: typeof rule.statuses === 'string' ? rule.statuses : rule.statuses.join(', ') };
    case 'url-allow-list':
      return { ...base, allow: rule.allow.join('\n') };
  }
}

/** The fields as the API reads a rule (the API checks it and names what is wrong). */
export function ruleOf(fields: RuleFields): unknown {
  const base = { id: fields.id.trim(), description: fields.description.trim(), form: fields.form };
  switch (fields.form) {
    case 'every-path':
      return { ...base, to: kindsOf(fields.to), passes: fields.groups.map(kindsOf) };
    case 'no-success-without': {
      const statuses = fields.statuses.trim();
      return { ...base, passes: kindsOf(fields.groups[0] ?? ''), statuses: /^[1-5]xx$/.test(statuses) ? statuses : statuses.split(',').map((s) => Number(s.trim())) };
    }
    case 'url-allow-list':
      return { ...base, allow: fields.allow.split('\n').map((e) => e.trim()).filter((e) => e !== '') };
  }
}

/** The fields of a rule switched to another form: its id and description kept, the rest from the form's template. */
export function switchForm(fields: RuleFields, form: Rule['form']): RuleFields {
  return { ...ruleFields(RULE_TEMPLATES[form]), id: fields.id, description: fields.description };
}

/** The kinds of a comma-separated text that are not node kinds, to flag before a save. */
export const unknownKinds = (text: string, isKind: (name: string) => boolean) => kindsOf(text).filter((k) => !isKind(k));

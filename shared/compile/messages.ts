import { z } from 'zod';

/** zod's own English messages, to tell them from the messages our schemas give. */
const zodDefault = z.locales.en().localeError;

/** "a" or "an" before a word, by its first letter: "an error node", "a proxy node", "an API key node". */
export const article = (word: string): 'a' | 'an' => (/^[aeiou]/i.test(word) ? 'an' : 'a');

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  date: 'a date',
  nan: 'a number',
  null: 'null',
};
const typeWord = (type: string) => TYPE_WORDS[type] ?? type;

const SIZE_UNITS: Record<string, [string, string]> = {
  string: ['character', 'characters'],
  array: ['item', 'items'],
  set: ['item', 'items'],
  map: ['entry', 'entries'],
  file: ['byte', 'bytes'],
};
const count = (n: number | bigint, [one, many]: [string, string]) => `${n.toString()} ${Number(n) === 1 ? one : many}`;

const FORMAT_WORDS: Record<string, string> = { url: 'a URL', email: 'an e-mail address', uuid: 'a UUID', datetime: 'a date and time (ISO 8601)', date: 'a date (YYYY-MM-DD)', ipv4: 'an IPv4 address', ipv6: 'an IPv6 address', jwt: 'a JWT' };

const quoted = (values: readonly unknown[]) => values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');

/** zod's message for an issue in plain words, lower-case like the rest of the problems. */
function plain(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const received = /received (\w+)$/.exec(issue.message)?.[1];
      if (received === 'undefined') return 'is required';
      if (issue.expected === 'int' && received === 'number') return 'must be a whole number';
      return `must be ${typeWord(issue.expected)}${received ? `, not ${typeWord(received)}` : ''}`;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${quoted(issue.values)}` : `must be one of ${quoted(issue.values)}`;
    case 'too_small': {
      const units = SIZE_UNITS[issue.origin];
      if (!units) return `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum.toString()}`;
      if (Number(issue.minimum) === 1 && issue.inclusive !== false) return issue.origin === 'string' ? 'must not be empty' : `needs at least one ${units[0]}`;
      return `${issue.exact ? 'must have exactly' : 'needs at least'} ${count(issue.minimum, units)}`;
    }
    case 'too_big': {
      const units = SIZE_UNITS[issue.origin];
      if (!units) return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum.toString()}`;
      return `${issue.exact ? 'must have exactly' : 'is too long: at most'} ${count(issue.maximum, units)}${issue.exact ? '' : ' are allowed'}`;
    }
    case 'invalid_format':
      if (issue.format === 'starts_with') return `must start with "${(issue as { prefix?: string }).prefix}"`;
      if (issue.format === 'ends_with') return `must end with "${(issue as { suffix?: string }).suffix}"`;
      if (issue.format === 'includes') return `must include "${(issue as { includes?: string }).includes}"`;
      return FORMAT_WORDS[issue.format] ? `must be ${FORMAT_WORDS[issue.format]}` : 'is not in the expected format';
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor.toString()}`;
    case 'unrecognized_keys':
      return issue.keys.length === 1 ? `"${issue.keys[0]}" is not a known field here` : `${quoted(issue.keys)} are not known fields here`;
    case 'invalid_key':
      return issue.issues[0] ? issueMessage(issue.issues[0]) : 'a key here is not allowed';
    case 'invalid_element':
      return issue.issues[0] ? issueMessage(issue.issues[0]) : 'a value here is not allowed';
    case 'invalid_union':
      return 'does not match any of the forms this field allows';
    default:
      return 'is not valid';
  }
}

/**
 * What a zod issue means, for a person: a message the schema gives is kept ("must be snake_case"),
 * zod's own wording ("Too small: expected array to have >=1 items") becomes a plain sentence
 * ("needs at least one item").
 * @example issueMessage({ code: 'too_big', origin: 'string', maximum: 200, ... }) // 'is too long: at most 200 characters are allowed'
 */
function issueMessage(issue: z.core.$ZodIssue): string {
  const own = zodDefault(issue as unknown as z.core.$ZodRawIssue);
  const ownText = typeof own === 'string' ? own : own?.message;
  const fromZod = issue.message === ownText || (issue.code === 'invalid_type' && /^Invalid input: expected \w+, received \w+$/.test(issue.message));
  return fromZod || issue.code === 'invalid_key' || issue.code === 'invalid_element' ? plain(issue) : issue.message;
}

/**
 * A zod issue as the problems a person reads: each with its field path and plain message. An
 * unknown key is reported at the key itself (one problem per key), so the editor can point at
 * `config.foo` rather than at the whole config.
 */
export function issueProblems(issue: z.core.$ZodIssue): Array<{ path: PropertyKey[]; message: string }> {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...issue.path, key], message: `"${key}" is not a known field here` }));
  return [{ path: issue.path, message: issueMessage(issue) }];
}

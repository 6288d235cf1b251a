/**
 * What a prompt-guard node checks in a prompt's texts: deny and allow patterns and the PII
 * detectors (e-mail, card numbers with the Luhn check, IBANs with the mod-97 check, phone
 * numbers), each blocking or redacting. Runs in an expression worker (expression-worker.ts, a
 * guard task): RE2's matching is linear but not free (~0.2 µs a character a pattern), and a
 * prompt of a megabyte against a dozen patterns would otherwise hold the gateway's thread for
 * seconds. Every regex is RE2 (linear-regex.ts): no input can make one backtrack.
 */
import { LinearRegExp } from './linear-regex.ts';

export type DetectorName = 'card' | 'iban' | 'email' | 'phone';
/** The detectors in the order they run: a redacted card number is no longer digits a phone detector could see. */
export const DETECTORS: readonly DetectorName[] = ['card', 'iban', 'email', 'phone'];

/** A prompt-guard node's checks, as sent to a worker (compiled there once per `key`). */
export interface ScanSpec {
  key: number;
  deny: readonly string[];
  allow: readonly string[];
  ignoreCase: boolean;
  detectors: ReadonlyArray<readonly [DetectorName, 'block' | 'redact']>;
}

/** The rule that blocked (named, never quoting the text), or each text redacted (null: unchanged). */
export interface ScanResult {
  blocked: string | undefined;
  redacted: Array<string | null> | undefined;
}

/** Where a detector found something in a text: [start, end). */
type Span = [number, number];

const isDigit = (code: number) => code >= 48 && code <= 57;
const isAlnum = (code: number) => isDigit(code) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/** Luhn's check over a string of digits. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** IBAN lengths by country (the SWIFT registry): the check needs to know where an IBAN ends. */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29,
  ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20,
  LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25,
  QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** ISO 13616's check: the first four characters moved to the end, letters as 10-35, the number mod 97 is 1. */
function mod97(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (let i = 0; i < moved.length; i++) {
    const code = moved.charCodeAt(i);
    const value = isDigit(code) ? code - 48 : code - 55;
    rest = value > 9 ? (rest * 100 + value) % 97 : (rest * 10 + value) % 97;
  }
  return rest === 1;
}

/** A phone number's candidates, by RE2, within a numeric stretch of the text (see phoneSpans). */
const PHONE = /\+?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:(?:[ .-]|[ .-]?\(\d{1,5}\)[ .-]?)?\d{1,5}){1,7}/g;
const EMAIL = /[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}/g;

/** Every match of `re` in text[from, to), as candidates; `accept` answers the span to take (or none). */
function spans(re: LinearRegExp, text: string, accept: (match: string, start: number) => Span | undefined, from = 0, to = text.length): Span[] {
  const found: Span[] = [];
  const part = from === 0 && to === text.length ? text : text.slice(from, to);
  re.lastIndex = 0;
  for (let match = re.exec(part); match !== null; match = re.exec(part)) {
    const span = accept(match[0], from + match.index);
    if (span !== undefined) {
      found.push(span);
      re.lastIndex = span[1] - from;
    }
  }
  return found;
}

/**
 * Card numbers, by a scan of the text: each maximal run of digits with single spaces or hyphens
 * between, of 13-19 digits, that passes Luhn. A longer run is no card (an id, a phone list).
 */
function cardSpans(text: string): Span[] {
  const found: Span[] = [];
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    let digits = '';
    let end = i;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (isDigit(code)) {
        if (digits.length <= 19) digits += text[i];
        i++;
        end = i;
      } else if ((code === 32 || code === 45) && isDigit(text.charCodeAt(i + 1))) i++;
      else break;
    }
    if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) found.push([start, end]);
  }
  return found;
}

/**
 * IBANs, by a scan of the text: two letters and two digits after a non-alphanumeric, then the
 * country's length of letters and digits (single spaces between), passing mod 97, not followed by
 * more letters or digits.
 */
function ibanSpans(text: string): Span[] {
  const found: Span[] = [];
  const isLetter = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  for (let start = 0; start + 4 <= text.length; start++) {
    if (!isLetter(text.charCodeAt(start)) || !isLetter(text.charCodeAt(start + 1)) || !isDigit(text.charCodeAt(start + 2)) || !isDigit(text.charCodeAt(start + 3))) continue;
    if (start > 0 && isAlnum(text.charCodeAt(start - 1))) continue;
    const length = IBAN_LENGTHS[text.slice(start, start + 2).toUpperCase()];
    if (length === undefined) continue;
    let compact = '';
    let i = start;
    while (i < text.length && compact.length < length) {
      const code = text.charCodeAt(i);
      if (isAlnum(code)) {
        compact += text[i];
        i++;
      } else if (code === 32 && isAlnum(text.charCodeAt(i + 1)) && compact.length > 0) i++;
      else break;
    }
    if (compact.length < length || (i < text.length && isAlnum(text.charCodeAt(i)))) continue;
    if (mod97(compact.toUpperCase())) {
      found.push([start, i]);
      start = i - 1;
    }
  }
  return found;
}

/** A character a phone number is written with. */
const isPhoneChar = (code: number) => isDigit(code) || code === 32 || code === 40 || code === 41 || code === 43 || code === 45 || code === 46;

/**
 * Phone numbers: RE2 only within numeric stretches (digits, spaces, parentheses, +, -, .) of at
 * least 7 digits, so that prose costs one pass of a character test; in a stretch, 9-15 digits
 * with separators or parentheses, or 7-15 after a +. A bare run of digits is an id, not a phone.
 */
function phoneSpans(re: LinearRegExp, text: string): Span[] {
  const found: Span[] = [];
  let i = 0;
  while (i < text.length) {
    if (!isPhoneChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const from = i;
    let digits = 0;
    while (i < text.length && isPhoneChar(text.charCodeAt(i))) if (isDigit(text.charCodeAt(i++))) digits++;
    if (digits < 7) continue;
    found.push(
      ...spans(
        re,
        text,
        (match, start) => {
          const end = start + match.length;
          if (start > 0 && (isAlnum(text.charCodeAt(start - 1)) || text[start - 1] === '+')) return undefined;
          if (end < text.length && isAlnum(text.charCodeAt(end))) return undefined;
          const count = match.replace(/\D/g, '').length;
          const plus = match.startsWith('+');
          if (plus ? count < 7 || count > 15 : count < 9 || count > 15) return undefined;
          if (!plus && !/[ .()-]/.test(match)) return undefined;
          if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(match)) return undefined; // an IPv4 address
          return [start, end];
        },
        from,
        i,
      ),
    );
  }
  return found;
}

/** Finds each detector's matches in a text. */
const FIND: Record<DetectorName, (text: string) => Span[]> = (() => {
  const email = new LinearRegExp(EMAIL);
  const phone = new LinearRegExp(PHONE);
  return {
    card: cardSpans,
    iban: ibanSpans,
    // only where there is an @: RE2 then runs on the stretch around each
    email: (text) => (text.includes('@') ? spans(email, text, (match, start) => [start, start + match.length]) : []),
    phone: (text) => phoneSpans(phone, text),
  };
})();

/** The text with each span replaced by `[name]`. */
function redact(text: string, found: readonly Span[], name: string): string {
  let out = '';
  let at = 0;
  for (const [start, end] of found) {
    out += `${text.slice(at, start)}[${name}]`;
    at = end;
  }
  return out + text.slice(at);
}

/** What one text has of one detector: its spans (for tests and the worker). */
export function detect(name: DetectorName, text: string): Array<[number, number]> {
  return FIND[name](text);
}

/**
 * A node's checks, compiled once (the patterns were checked at publish; see regexProblem).
 * @example
 * compileScan({ key: 1, deny: ['ignore (all )?previous'], allow: [], ignoreCase: true, detectors: [['email', 'redact']] })
 *   .scan(['Mail me: a@b.io']) // { blocked: undefined, redacted: ['Mail me: [email]'] }
 */
export function compileScan(spec: ScanSpec): { scan(texts: readonly string[]): ScanResult } {
  const flags = spec.ignoreCase ? 'gi' : 'g';
  const deny = spec.deny.map((source) => new LinearRegExp(new RegExp(source, flags)));
  const allow = spec.allow.map((source) => new LinearRegExp(new RegExp(source, flags)));
  const matches = (re: LinearRegExp, text: string) => {
    re.lastIndex = 0;
    return re.exec(text) !== null;
  };
  return {
    scan(texts) {
      for (const text of texts) for (let i = 0; i < deny.length; i++) if (matches(deny[i]!, text)) return { blocked: `pattern ${i + 1}`, redacted: undefined };
      if (allow.length > 0 && !texts.some((text) => allow.some((re) => matches(re, text)))) return { blocked: 'allow patterns', redacted: undefined };
      let redacted: Array<string | null> | undefined;
      for (let t = 0; t < texts.length; t++) {
        let text = texts[t]!;
        for (const [name, action] of spec.detectors) {
          const found = FIND[name](text);
          if (found.length === 0) continue;
          if (action === 'block') return { blocked: `detector ${name}`, redacted: undefined };
          text = redact(text, found, name);
        }
        if (text !== texts[t]) (redacted ??= texts.map(() => null))[t] = text;
      }
      return { blocked: undefined, redacted };
    },
  };
}

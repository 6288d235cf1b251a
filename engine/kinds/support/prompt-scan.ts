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

// Candidates by RE2, each then checked in code (boundaries, digit counts, check digits).
const CARD = /\d(?:[ -]?\d){12,18}/g;
const IBAN = /[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,32}/g;
const EMAIL = /[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}/g;
const PHONE = /\+?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:(?:[ .-]|[ .-]?\(\d{1,5}\)[ .-]?)?\d{1,5}){1,7}/g;

/** Every match of `re` in `text`, as candidates; `accept` answers the span to take (or none). */
function spans(re: LinearRegExp, text: string, accept: (match: string, start: number) => Span | undefined): Span[] {
  const found: Span[] = [];
  re.lastIndex = 0;
  for (let match = re.exec(text); match !== null; match = re.exec(text)) {
    const span = accept(match[0], match.index);
    if (span !== undefined) {
      found.push(span);
      re.lastIndex = span[1];
    }
  }
  return found;
}

/** Finds each detector's matches in a text. */
const FIND: Record<DetectorName, (text: string) => Span[]> = (() => {
  const card = new LinearRegExp(CARD);
  const iban = new LinearRegExp(IBAN);
  const email = new LinearRegExp(EMAIL);
  const phone = new LinearRegExp(PHONE);
  return {
    // a whole run of 13-19 digits (single spaces or hyphens between) that passes Luhn; a longer run is no card
    card: (text) =>
      spans(card, text, (match, start) => {
        const end = start + match.length;
        if (start > 0 && isDigit(text.charCodeAt(start - 1))) return undefined;
        if (end < text.length && (isDigit(text.charCodeAt(end)) || (/[ -]/.test(text[end]!) && isDigit(text.charCodeAt(end + 1))))) return undefined;
        return luhn(match.replace(/[ -]/g, '')) ? [start, end] : undefined;
      }),
    // a country's length of letters and digits (single spaces between) that passes mod 97
    iban: (text) =>
      spans(iban, text, (match, start) => {
        if (start > 0 && isAlnum(text.charCodeAt(start - 1))) return undefined;
        const length = IBAN_LENGTHS[match.slice(0, 2).toUpperCase()];
        if (length === undefined) return undefined;
        let compact = '';
        let end = start;
        for (let i = 0; i < match.length && compact.length < length; i++) {
          if (match[i] !== ' ') compact += match[i];
          end = start + i + 1;
        }
        if (compact.length < length || (end < text.length && isAlnum(text.charCodeAt(end)))) return undefined;
        return mod97(compact.toUpperCase()) ? [start, end] : undefined;
      }),
    email: (text) => spans(email, text, (match, start) => [start, start + match.length]),
    // 9-15 digits with separators or parentheses, or 7-15 after a +; a bare run of digits is an id, not a phone
    phone: (text) =>
      spans(phone, text, (match, start) => {
        const end = start + match.length;
        if (start > 0 && (isAlnum(text.charCodeAt(start - 1)) || text[start - 1] === '+')) return undefined;
        if (end < text.length && isAlnum(text.charCodeAt(end))) return undefined;
        const digits = match.replace(/\D/g, '').length;
        const plus = match.startsWith('+');
        if (plus ? digits < 7 || digits > 15 : digits < 9 || digits > 15) return undefined;
        if (!plus && !/[ .()-]/.test(match)) return undefined;
        if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(match)) return undefined; // an IPv4 address
        return [start, end];
      }),
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

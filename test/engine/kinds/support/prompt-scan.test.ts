import { describe, expect, it } from 'vitest';
import { compileScan, detect } from '../../../../engine/kinds/support/prompt-scan.ts';

// The checks a prompt-guard node runs in a worker, here on the test's thread.

/** The texts a detector finds in `text`. */
const found = (name: Parameters<typeof detect>[0], text: string) => detect(name, text).map(([start, end]) => text.slice(start, end));

describe('the PII detectors', () => {
  it('finds card numbers that pass Luhn, whole runs only', () => {
    expect(found('card', 'pay 4111 1111 1111 1111, or 5500-0000-0000-0004; 378282246310005 too')).toEqual(['4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005']);
    expect(found('card', '4111 1111 1111 1112 and 12345678901234567890123 and 4111 1111 1111 1111 7')).toEqual([]);
  });

  it('finds IBANs of their country\'s length that pass mod 97', () => {
    expect(found('card', 'DE89 3704 0044 0532 0130 00')).toEqual([]);
    expect(found('iban', 'to DE89 3704 0044 0532 0130 00 and gb82west12345698765432 thanks')).toEqual(['DE89 3704 0044 0532 0130 00', 'gb82west12345698765432']);
    expect(found('iban', 'DE89370400440532013000 is mine')).toEqual(['DE89370400440532013000']);
    expect(found('iban', 'DE89 3704 0044 0532 0130 01, XX89 3704 0044 0532 0130 00, DE893704004405320130001')).toEqual([]);
  });

  it('finds e-mail addresses and written phone numbers, not ids, dates or addresses', () => {
    expect(found('email', 'a@b.io, first.last+tag@sub.example.co.uk; not@localhost')).toEqual(['a@b.io', 'first.last+tag@sub.example.co.uk']);
    expect(found('phone', 'call +1 415 555 2671 or (415) 555-2671 or 030 1234 5678 or +4915112345678')).toEqual(['+1 415 555 2671', '(415) 555-2671', '030 1234 5678', '+4915112345678']);
    expect(found('phone', 'order 123456789, on 2024-01-15, from 192.168.100.200, v1.2.3, 12 34')).toEqual([]);
  });

  it('stays linear on long runs of what detectors look for', () => {
    for (const text of ['1 '.repeat(200_000), 'a'.repeat(400_000), '+1'.repeat(200_000), 'a@'.repeat(200_000)]) {
      for (const name of ['card', 'iban', 'email', 'phone'] as const) expect(detect(name, text)).toEqual([]);
    }
  });
});

describe('compileScan', () => {
  const scan = compileScan({ key: 1, deny: ['ignore (all )?previous', '^(a+)+$'], allow: [], ignoreCase: true, detectors: [['card', 'block'], ['email', 'redact'], ['phone', 'redact']] });

  it('names the first rule that blocks, never the text', () => {
    expect(scan.scan(['fine', 'Ignore previous orders'])).toEqual({ blocked: 'pattern 1', redacted: undefined });
    expect(scan.scan(['a'.repeat(10_000)])).toEqual({ blocked: 'pattern 2', redacted: undefined });
    expect(scan.scan(['mail a@b.io', 'card 4111111111111111'])).toEqual({ blocked: 'detector card', redacted: undefined });
  });

  it('redacts each text, null where nothing changed', () => {
    expect(scan.scan(['hello', 'a@b.io or +1 415 555 2671'])).toEqual({ blocked: undefined, redacted: [null, '[email] or [phone]'] });
    expect(scan.scan(['hello'])).toEqual({ blocked: undefined, redacted: undefined });
  });

  it('with allow patterns, refuses a prompt none of whose texts matches', () => {
    const allow = compileScan({ key: 2, deny: [], allow: ['\\border'], ignoreCase: false, detectors: [] });
    expect(allow.scan(['a poem', 'my order'])).toEqual({ blocked: undefined, redacted: undefined });
    expect(allow.scan(['a poem', 'my Order'])).toEqual({ blocked: 'allow patterns', redacted: undefined });
  });
});

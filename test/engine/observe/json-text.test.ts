import { describe, expect, it } from 'vitest';
import { epochMillisText, jsonString, millisText } from '../../../engine/observe/json-text.ts';

describe('jsonString', () => {
  it('writes what JSON.stringify writes, for plain values and for every character that needs escaping', () => {
    const values = ['', 'GET', '127.0.0.1', '::ffff:10.0.0.1', 'acme', 'Société Générale', '東京', 'emoji 🚀', 'quote " and \\ back', 'tab\there', 'nl\n', '\u0000\u001f\u007f', '\ud800 lone', 'line\u2028sep', ' ~!#$%&\'()*+,-./:;<=>?@[]^_`{|}'];
    for (let c = 0; c < 0x110; c++) values.push(`a${String.fromCharCode(c)}b`);
    for (const value of values) {
      expect(jsonString(value)).toBe(JSON.stringify(value));
      expect(JSON.parse(jsonString(value))).toBe(value);
    }
  });
});

describe('millisText', () => {
  it('writes a duration rounded to microseconds as JSON.stringify does: every fraction of a millisecond, whole and large values', () => {
    const values = [0, 1, 12, 999, 1000, 3_600_000, 86_400_000 * 365, 2 ** 31, 1e12 + 0.001];
    for (let micros = 0; micros < 5000; micros++) values.push(micros / 1000); // every fraction, its trailing zeros dropped or not
    for (let i = 0; i < 20_000; i++) values.push(Math.round(Math.random() * 10 ** (3 + (i % 12))) / 1000);
    for (const value of values) expect(millisText(value)).toBe(JSON.stringify(value));
  });

  it('leaves any other number to the template: not whole microseconds, negative, huge, not finite', () => {
    for (const value of [0.0001, 1.23456, 1 / 3, -1, -0.5, 1e16, 1e21, Number.NaN, Number.POSITIVE_INFINITY]) expect(millisText(value)).toBe(`${value}`);
  });
});

describe('epochMillisText', () => {
  it("writes a time as JSON.stringify does: today's epochs, every width of the low digits, and what is not a whole epoch", () => {
    const values = [1e6, 1e6 + 1, Date.UTC(2026, 11, 7), Date.UTC(2026, 11, 7) + 1, Date.UTC(2026, 11, 7) + 99_999, 999_999_999_999_999, 0, 5, 999_999, -1, 1.5, 1e15, 1e20, Number.NaN];
    for (let digits = 0; digits <= 6; digits++) values.push(1_765_000_000_000_000 / 1000 + 10 ** digits - 1);
    for (let i = 0; i < 20_000; i++) values.push(1_765_000_000_000 + Math.floor(Math.random() * 1e9));
    for (const value of values) expect(epochMillisText(value)).toBe(`${value}`);
  });
});

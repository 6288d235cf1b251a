import { describe, expect, it } from 'vitest';
import { jsonString } from '../../../engine/observe/json-text.ts';

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

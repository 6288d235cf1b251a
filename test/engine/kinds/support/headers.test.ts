import { describe, expect, it } from 'vitest';
import { mergeHeaders } from '../../../../engine/kinds/support/headers.ts';
import { copyOwn, setOwn } from '../../../../engine/kinds/support/own-members.ts';

describe('objects keyed by names from outside (headers, vars): every name an own member, the prototype untouched', () => {
  it('setOwn makes "__proto__" an own header, and a later set replaces it', () => {
    const headers: Record<string, string | string[]> = {};
    setOwn(headers, '__proto__', ['a', 'b']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([['__proto__', ['a', 'b']]]);
    setOwn(headers, '__proto__', 'c');
    expect(Object.entries(headers)).toEqual([['__proto__', 'c']]);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });

  it('copyOwn copies every member in order into a new object, "__proto__" and "constructor" as headers', () => {
    const from: Record<string, string | string[]> = { 'content-type': 'text/plain', constructor: 'c' };
    setOwn(from, '__proto__', ['p1', 'p2']);
    from.etag = '"1"';
    const copy = copyOwn(from);
    expect(copy).not.toBe(from);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.entries(copy)).toEqual([['content-type', 'text/plain'], ['constructor', 'c'], ['__proto__', ['p1', 'p2']], ['etag', '"1"']]);
    copy.age = '3'; // the copy is the caller's: the original is not changed
    expect(from.age).toBeUndefined();
  });

  it('mergeHeaders sets a computed "__proto__" header as an own member, not as the prototype', () => {
    const target: Record<string, string | string[] | undefined> = { 'x-kept': '1' };
    expect(mergeHeaders(target, JSON.parse('{"__proto__": ["a", "b"], "X-New": 2}'))).toBeUndefined();
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.entries(target)).toEqual([['x-kept', '1'], ['__proto__', ['a', 'b']], ['x-new', '2']]);
  });
});

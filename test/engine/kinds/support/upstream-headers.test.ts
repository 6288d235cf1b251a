import { describe, expect, it } from 'vitest';
import { answerHeaders, answerHeadersFromRaw } from '../../../../engine/kinds/support/upstream-headers.ts';

/** A raw header list as undici's dispatcher reports it: name, value, name, value… as Buffers. */
const raw = (...pairs: Array<[string, string]>) => pairs.flatMap(([name, value]) => [Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1')]);

describe('answerHeadersFromRaw: the upstream answer\'s headers a client may see', () => {
  it('keeps every value of a repeated header, in order, and names lower-cased', () => {
    const seen = { declaredLength: undefined as string | undefined };
    const headers = answerHeadersFromRaw(raw(['Set-Cookie', 'a=1'], ['Content-Type', 'text/plain'], ['set-cookie', 'b=2'], ['SET-COOKIE', 'c=3'], ['Vary', 'Accept']), false, seen);
    expect(headers).toEqual({ 'set-cookie': ['a=1', 'b=2', 'c=3'], 'content-type': 'text/plain', vary: 'Accept' });
  });

  it('copies headers named like Object.prototype\'s members as headers, once or repeated, without touching the prototype', () => {
    const seen = { declaredLength: undefined as string | undefined };
    const headers = answerHeadersFromRaw(
      raw(['constructor', 'c1'], ['toString', 't1'], ['__proto__', 'p1'], ['hasOwnProperty', 'h1'], ['constructor', 'c2'], ['__proto__', 'p2'], ['valueOf', 'v1']),
      false,
      seen,
    );
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([['constructor', ['c1', 'c2']], ['tostring', 't1'], ['__proto__', ['p1', 'p2']], ['hasownproperty', 'h1'], ['valueof', 'v1']]);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  it('keeps "__proto__" as a header when Connection lists others to drop', () => {
    const seen = { declaredLength: undefined as string | undefined };
    const headers = answerHeadersFromRaw(raw(['Connection', 'x-secret'], ['__proto__', 'p1'], ['X-Secret', '1'], ['X-Public', '2']), false, seen);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([['__proto__', 'p1'], ['x-public', '2']]);
  });

  it('drops hop-by-hop headers and those Connection lists, and content-length when the body is rewritten (noting it)', () => {
    const seen = { declaredLength: undefined as string | undefined };
    const list = raw(['Connection', 'x-secret'], ['X-Secret', '1'], ['Keep-Alive', 'timeout=5'], ['Transfer-Encoding', 'chunked'], ['Content-Length', '12'], ['X-Public', '2']);
    expect(answerHeadersFromRaw(list, false, seen)).toEqual({ 'content-length': '12', 'x-public': '2' });
    const rewritten = { declaredLength: undefined as string | undefined };
    expect(answerHeadersFromRaw(list, true, rewritten)).toEqual({ 'x-public': '2' });
    expect(rewritten.declaredLength).toBe('12');
  });
});

describe('answerHeaders: the same from undici\'s parsed header object', () => {
  it('copies "__proto__" as a header, drops hop-by-hop ones and those Connection lists', () => {
    const parsed: Record<string, string | string[] | undefined> = JSON.parse('{"connection": "x-secret", "x-secret": "1", "__proto__": ["p1", "p2"], "keep-alive": "timeout=5", "x-public": "2"}');
    const headers = answerHeaders(parsed);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([['__proto__', ['p1', 'p2']], ['x-public', '2']]);
  });
});

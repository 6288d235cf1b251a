/**
 * JSON text written by hand on a hot path (the request log's lines): values
 * in a template cost a fraction of JSON.stringify of an object built only to be encoded.
 */

/** A character JSON.stringify writes otherwise than as it is (or may: anything outside printable ASCII). */
const NEEDS_STRINGIFY = /[^\x20-\x7e]|["\\]/;

/**
 * A string as a JSON string. Printable ASCII other than `"` and `\` is written as it is, as
 * JSON.stringify would write it; anything else goes through JSON.stringify. A regular expression,
 * not a loop over char codes: the values come in several string representations, so in the
 * gateway a loop's `length` and `charCodeAt` were megamorphic loads, two a character.
 */
export function jsonString(value: string): string {
  return NEEDS_STRINGIFY.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * A duration in milliseconds as JSON.stringify writes it, for the request log's and evidence's
 * durations, which are rounded to microseconds: formatted from the whole microseconds, two small
 * integers' digits, where a double's shortest digits (V8's NumberToString of a fraction) cost
 * several times as much. Any other number (not a whole count of microseconds, negative, huge, not
 * finite) is left to the template as it is.
 */
export function millisText(ms: number): string {
  const micros = Math.round(ms * 1000);
  if (!(micros >= 0 && micros < 1e15) || micros / 1000 !== ms) return `${ms}`;
  const whole = Math.floor(micros / 1000);
  const fraction = micros - whole * 1000;
  if (fraction === 0) return `${whole}`;
  if (fraction % 10 !== 0) return `${whole}.${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}`;
  if (fraction % 100 !== 0) return `${whole}.${fraction < 100 ? '0' : ''}${fraction / 10}`;
  return `${whole}.${fraction / 100}`;
}

/**
 * A time in milliseconds since the epoch as JSON.stringify writes it: the digits of two integers
 * under 2^31 (an epoch in milliseconds is past it, so V8 would format it as a double).
 */
export function epochMillisText(time: number): string {
  if (!(time >= 1e6 && time < 1e15) || Math.floor(time) !== time) return `${time}`;
  const high = Math.floor(time / 1e6);
  const low = time - high * 1e6;
  return `${high}${low < 10 ? '00000' : low < 100 ? '0000' : low < 1000 ? '000' : low < 10_000 ? '00' : low < 100_000 ? '0' : ''}${low}`;
}

import jsonata from 'jsonata';

export interface ExpressionError {
  message: string;
  /** Index of the character where parsing failed, when JSONata says. */
  position: number | undefined;
}

/**
 * The JSONata parse error of an expression, as the publish check would report it, or undefined.
 * Parsing only: nothing is evaluated in the browser.
 * @example
 * jsonataError('request.'); // { message: 'Expected ...', position: 8 }
 */
export function jsonataError(source: string): ExpressionError | undefined {
  if (source.trim() === '') return undefined;
  try {
    jsonata(source);
    return undefined;
  } catch (error) {
    const e = error as { message?: string; position?: number };
    return { message: e.message ?? String(error), position: typeof e.position === 'number' ? e.position : undefined };
  }
}

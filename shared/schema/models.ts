import { z } from 'zod';

/** The most models one allow-list names (a proxy's `llm.models`, a plan's per product). */
export const MAX_MODELS = 100;

/** One entry of a model allow-list: a model name, or a prefix ending in `*`. */
export const modelPatternSchema = z.string().min(1).max(200).regex(/^[^\s*]+\*?$/, 'a model name, or a prefix ending in * (gpt-4o*)');

/**
 * A model allow-list as a test: exact names, and prefixes for names ending in `*`.
 * @example
 * modelMatcher(['gpt-4o*', 'o1'])('gpt-4o-mini') // true
 */
export function modelMatcher(models: readonly string[]): (model: string) => boolean {
  const exact = new Set(models.filter((m) => !m.endsWith('*')));
  const prefixes = models.filter((m) => m.endsWith('*')).map((m) => m.slice(0, -1));
  return (model) => exact.has(model) || prefixes.some((p) => model.startsWith(p));
}

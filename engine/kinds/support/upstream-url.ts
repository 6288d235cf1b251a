import { PrepareError } from '../prepare-error.ts';
import type { PrepareContext } from '../types.ts';

/** A URL that starts with ${NAME}: the variable gives the whole base (scheme, host, port, path prefix). */
const TEMPLATE = /^\$\{([A-Z_][A-Z0-9_]*)\}(.*)$/s;

/**
 * The upstream URL of a config: as written, or with a leading ${NAME} replaced by the allow-listed
 * variable NAME. Only a leading reference is read, followed by the end, `/`, `?` or `#`, so the
 * value is the URL's base and goes to the host it names, never into the path, query or host of
 * another. A refusal quotes the URL as written, never the resolved text.
 */
export async function resolveUrl(url: string, context: PrepareContext, field: string): Promise<URL> {
  const template = TEMPLATE.exec(url);
  const rest = template ? template[2]! : url;
  if (rest.includes('${')) throw new PrepareError(field, `"${url}": \${NAME} may only start the URL, as its base`);
  if (template && rest !== '' && !/^[/?#]/.test(rest)) throw new PrepareError(field, `"${url}": \${${template[1]}} must be followed by /, ? or # (the variable is the whole base URL)`);
  const base = template ? context.env.url(template[1]!, field) : '';
  let parsed: URL;
  try {
    parsed = new URL(base + rest);
  } catch (cause) {
    throw new PrepareError(field, `"${url}" is not an http(s) URL${template ? ' once its variable is read' : ''}`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new PrepareError(field, `"${url}" is not an http(s) URL${template ? ' once its variable is read' : ''}`);
  const refused = await context.egress.check({ url: parsed, label: template ? `\${${template[1]}}` : `"${url}"`, literal: template === null });
  if (refused !== undefined) throw new PrepareError(field, refused);
  return parsed;
}

/** A problem of validate.ts's shape (ValidationProblem), always `invalid_document`, pinned to a field. */
interface CredentialProblem {
  code: 'invalid_document';
  message: string;
  field: string;
}

/** Headers that carry a credential whatever their value looks like. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key'];

/** A value shaped like a credential: a JWT, an Authorization scheme with its token, a partner key (`sk_<prefix>_…`) or a request signature (`keyId=…,ts=…,sig=…`). */
export function looksLikeCredential(value: string): boolean {
  const v = value.trim();
  return /^(bearer|basic|digest)\s+\S/i.test(v) || /^eyJ[\w-]+\.[\w-]+\.[\w-]*$/.test(v) || /^sk_[A-Za-z0-9]{8}_\S/.test(v) || /(^|,)\s*sig=[0-9a-f]{16,}/i.test(v);
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/**
 * Where the document's identity nodes read a credential: the headers of api-key, hmac-verify and
 * introspect nodes (lowercase) and api-key query parameters, read from the raw configs (a draft
 * may be half drawn).
 */
export function apiKeySources(document: unknown): { headers: Set<string>; query: Set<string> } {
  const headers = new Set<string>();
  const query = new Set<string>();
  const nodes = record(document)?.nodes;
  for (const node of Array.isArray(nodes) ? nodes : []) {
    const n = record(node);
    const fallback = n?.kind === 'api-key' ? 'x-api-key' : n?.kind === 'hmac-verify' ? 'signature' : n?.kind === 'introspect' ? 'authorization' : undefined;
    if (fallback === undefined) continue;
    const config = record(n!.config);
    headers.add(typeof config?.header === 'string' ? config.header.toLowerCase() : fallback);
    if (n!.kind === 'api-key' && typeof config?.query === 'string') query.add(config.query);
  }
  return { headers, query };
}

/**
 * The credentials a document's tests and samples hold as typed: a value in a credential header
 * (CREDENTIAL_HEADERS, and the headers the document's api-key nodes read), in an api-key node's
 * query parameter, or any header value shaped like a credential. A stored document is read by
 * every role and exported, so a test names its credential by reference instead: `request.token`
 * (a demo token minted at run time) or `request.apiKey` (a key minted for the run).
 * @example
 * storedCredentialProblems(doc) // [{ code: 'invalid_document', field: 'tests.0.request.headers.x-api-key', … }]
 */
export function storedCredentialProblems(document: unknown): CredentialProblem[] {
  const problems: CredentialProblem[] = [];
  const sources = apiKeySources(document);
  const secretHeaders = new Set([...CREDENTIAL_HEADERS, ...sources.headers]);
  const doc = record(document);
  for (const list of ['tests', 'samples'] as const) {
    const entries = doc?.[list];
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry, i) => {
      const request = record(record(entry)?.request);
      for (const [name, value] of Object.entries(record(request?.headers) ?? {})) {
        if (typeof value !== 'string' || value === '') continue;
        if (secretHeaders.has(name.toLowerCase()) || looksLikeCredential(value))
          problems.push({
            code: 'invalid_document',
            message: `header "${name}" holds a credential as typed; stored documents never hold one: use request.token (a demo token minted at run time), request.apiKey (a key minted for the run), request.hmac (signed for the run) or request.introspected`,
            field: `${list}.${i}.request.headers.${name}`,
          });
      }
      for (const [name, value] of Object.entries(record(request?.query) ?? {})) {
        if (typeof value === 'string' && value !== '' && (sources.query.has(name) || looksLikeCredential(value)))
          problems.push({ code: 'invalid_document', message: `query parameter "${name}" holds a credential as typed: use request.apiKey (a key minted for the run)`, field: `${list}.${i}.request.query.${name}` });
      }
    });
  }
  return problems;
}

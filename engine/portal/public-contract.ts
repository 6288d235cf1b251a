/**
 * A workflow's contract and identity as a stranger may read them: the answers it gives (status,
 * problem type, title, why in words, headers, example), the credentials and scopes it asks for,
 * and its OpenAPI 3.1 reference. Nothing internal leaves: no node ids or labels, no expressions,
 * no upstream or service addresses, no secret references.
 */
import type { ContractEntry } from '../../shared/compile/index.ts';
import type { PortalAnswer, PortalCredential } from '../../shared/portal/index.ts';
import type { WorkflowDocument } from '../../shared/schema/index.ts';
import { contractOpenApi } from '../preview/contract-openapi.ts';

/** Where the portal documents a problem type: the last segment of its URI (`…/rate-limited` -> `rate-limited`), else the catalog id in kebab case. */
export function problemSlug(id: string, type: string | undefined): string {
  const last = /\/([A-Za-z0-9][A-Za-z0-9._~-]{0,127})\/?$/.exec(type ?? '')?.[1];
  return last ?? id.replaceAll('_', '-');
}

/**
 * The contract's words with what is internal taken out. The words quote expressions (a condition's
 * or a switch case's JSONata), name nodes by their labels or ids, and name side services: a
 * stranger learns that a condition decides, not how.
 */
export function publicCondition(words: string): string {
  return (
    words
      // a condition's or a case's expression, quoted as inline code (one or two backticks)
      .replace(/the (condition|case) (``\s[\s\S]*?\s``|`[^`]*`)/g, 'a $1 of the API')
      .replace(/no case of .+? holds/g, 'no case holds')
      .replace(/an expression of .+? (fails or makes an invalid value)/g, 'a transformation $1')
      .replace(/an expression of .+? (fails or exceeds)/g, 'an expression of the workflow $1')
      .replace(/the side service \([^)]*\)/g, 'a side service')
      // whatever is left that reads like an address or a setting
      .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s`'")]+/gi, '<address>')
      .replace(/\$\{[^}]*\}/g, '<setting>')
      .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<address>')
  );
}

/** An answer's title: a respond node's answer is titled by its node id in the contract, so it is named by its status here. */
export const publicTitle = (e: { status: number; type?: string | undefined; title: string }) => (e.type === undefined ? `${e.status} answer` : e.title);

/** The answers of a contract as the portal shows them, in the contract's order. */
export function publicAnswers(contract: readonly ContractEntry[], problemPage: (id: string, type: string) => string | undefined): PortalAnswer[] {
  return contract.map((e) => {
    const page = e.type === undefined ? undefined : problemPage(e.id, e.type);
    return {
      status: e.status,
      ...(e.type === undefined ? {} : { type: e.type }),
      title: publicTitle(e),
      condition: publicCondition(e.condition),
      headers: { ...e.headers },
      example: e.example,
      ...(page === undefined ? {} : { problemPage: page }),
    };
  });
}

const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/** The credentials the graph's identity nodes read (any one of them identifies the caller), and the scopes its scope checks require. */
export function identityOf(document: WorkflowDocument): { credentials: PortalCredential[]; scopes: { all: string[]; any: string[] } } {
  const credentials: PortalCredential[] = [];
  const all = new Set<string>();
  const any = new Set<string>();
  const bearer = (header: unknown) => (typeof header === 'string' && header.toLowerCase() !== 'authorization' ? `header ${header.toLowerCase()}: Bearer <token>` : 'Authorization: Bearer <token>');
  for (const node of document.nodes) {
    const c = record(node.config);
    let credential: PortalCredential | undefined;
    if (node.kind === 'jwt-verify') credential = { kind: 'jwt', sent: bearer(c.header) };
    else if (node.kind === 'introspect') credential = { kind: 'oauth-token', sent: bearer(c.header) };
    else if (node.kind === 'api-key') credential = { kind: 'api-key', sent: `header ${String(c.header ?? 'x-api-key').toLowerCase()}${typeof c.query === 'string' ? ` or query parameter ${c.query}` : ''}` };
    else if (node.kind === 'hmac-verify') credential = { kind: 'hmac-signature', sent: `header ${String(c.header ?? 'signature').toLowerCase()}: keyId=<id>,ts=<unix seconds>,sig=<hex HMAC>` };
    else if (node.kind === 'client-cert') credential = { kind: 'client-certificate', sent: 'a TLS client certificate' };
    else if (node.kind === 'scope-check') {
      for (const s of (c.all as string[] | undefined) ?? []) all.add(s);
      for (const s of (c.any as string[] | undefined) ?? []) any.add(s);
    }
    if (credential && !credentials.some((k) => k.kind === credential.kind && k.sent === credential.sent)) credentials.push(credential);
  }
  return { credentials, scopes: { all: [...all], any: [...any] } };
}

/** OpenAPI security schemes of the credentials, by name. */
function securitySchemes(credentials: readonly PortalCredential[]): Record<string, Record<string, unknown>> {
  const schemes: Record<string, Record<string, unknown>> = {};
  credentials.forEach((c, i) => {
    const name = `${c.kind}${i === 0 ? '' : `-${i + 1}`}`;
    const header = /^header (\S+?):?( |$)/.exec(c.sent)?.[1];
    if (c.kind === 'client-certificate') schemes[name] = { type: 'mutualTLS', description: 'A client certificate the gateway verifies.' };
    else if ((c.kind === 'jwt' || c.kind === 'oauth-token') && header === undefined) schemes[name] = { type: 'http', scheme: 'bearer', ...(c.kind === 'jwt' ? { bearerFormat: 'JWT' } : {}) };
    else schemes[name] = { type: 'apiKey', in: 'header', name: header ?? 'authorization', description: c.sent };
  });
  return schemes;
}

/**
 * The reference as OpenAPI 3.1: the preview's contract document (contract-openapi.ts) made from
 * the public answers, with the credentials as security schemes. Example names are the catalog
 * ids (numbered when several answers share one), never node ids.
 */
export function publicOpenApi(document: WorkflowDocument, version: number, contract: readonly ContractEntry[], identity: ReturnType<typeof identityOf>) {
  const seen = new Map<string, number>();
  const entries: ContractEntry[] = contract.map((e) => {
    const base = e.type === undefined ? `answer-${e.status}` : e.id;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const [answer] = publicAnswers([e], () => undefined);
    return { id: n === 1 ? base : `${base}-${n}`, status: e.status, ...(e.type === undefined ? {} : { type: e.type }), title: answer!.title, condition: answer!.condition, path: [], headers: answer!.headers, example: e.example };
  });
  const openapi = contractOpenApi(document, version, entries);
  const schemes = securitySchemes(identity.credentials);
  const names = Object.keys(schemes);
  if (names.length === 0) return openapi;
  const scopes = [...identity.scopes.all.map((s) => `\`${s}\``), ...(identity.scopes.any.length > 0 ? [`one of ${identity.scopes.any.map((s) => `\`${s}\``).join(', ')}`] : [])];
  const paths = Object.fromEntries(
    Object.entries(openapi.paths).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, operation]) => [
          method,
          { ...operation, security: names.map((name) => ({ [name]: [] })), ...(scopes.length > 0 ? { description: `${operation.description ? `${operation.description}\n\n` : ''}Requires scopes: ${scopes.join(', ')}.` } : {}) },
        ]),
      ),
    ]),
  );
  return { ...openapi, paths, components: { ...openapi.components, securitySchemes: schemes } };
}

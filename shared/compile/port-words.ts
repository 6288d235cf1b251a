/**
 * Why a request leaves a node by a port, in words, from the node's kind, config and port name:
 * "the JWT is missing or invalid", "scope orders:read is missing". The contract says each of its
 * answers with these (contract.ts), and the editor and the Markdown export show them (contract-words.ts).
 */

/** A node as the words need it: kind, config and its name on the canvas. */
export interface WordsNode {
  id: string;
  kind: string;
  config: unknown;
  label?: string | undefined;
}

/** The longest a quoted expression gets in the words; longer ones end in an ellipsis. */
const MAX_QUOTE = 120;
/** The most ways into a node its words list; the rest are counted. */
const MAX_ARRIVALS = 6;
/** An expression as inline code (two backticks when it holds one, as Markdown wants). */
function quote(text: string): string {
  const cut = text.length > MAX_QUOTE ? `${text.slice(0, MAX_QUOTE - 1)}…` : text;
  return cut.includes('`') ? `\`\` ${cut} \`\`` : `\`${cut}\``;
}
const list = (items: readonly string[], joint: string) => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${joint} ${items.at(-1)}`);
const scopes = (names: readonly string[]) => `${names.length === 1 ? 'scope' : 'scopes'} ${list(names, 'and')}`;

/** A node's name as a person sees it on the canvas: its label, else its id. */
export const nodeName = (node: Pick<WordsNode, 'id' | 'label'>) => node.label?.trim() || node.id;

/** Words for a subject and a predicate: two predicates of one subject join as "the JWT is missing or invalid". */
interface Clause {
  subject: string;
  predicate: string;
}

/** Why a request leaves `node` by `port`, as a clause; undefined when the port's description is the best there is. */
function clause(node: WordsNode, port: string): Clause | undefined {
  const c = (node.config ?? {}) as Record<string, unknown>;
  const partner: Record<string, Clause> = {
    suspended: { subject: 'the partner', predicate: 'is suspended' },
    unsubscribed: { subject: 'the partner', predicate: 'subscribes to none of the API products that include this workflow' },
  };
  switch (node.kind) {
    case 'jwt-verify':
      return ({ ok: { subject: 'the JWT', predicate: 'is valid' }, missing: { subject: 'the JWT', predicate: 'is missing' }, invalid: { subject: 'the JWT', predicate: 'is invalid (malformed, expired, badly signed or for someone else)' }, unavailable: { subject: 'the signing keys', predicate: 'cannot be fetched and none were ever known' }, ...partner } as Record<string, Clause>)[port];
    case 'introspect':
      return ({ ok: { subject: 'the bearer token', predicate: 'is active (the authorization server says so)' }, missing: { subject: 'the bearer token', predicate: 'is missing' }, invalid: { subject: 'the bearer token', predicate: 'is not active (unknown, expired or revoked) or for someone else' }, unavailable: { subject: 'the authorization server', predicate: 'cannot be asked about the token' }, ...partner } as Record<string, Clause>)[port];
    case 'api-key':
      return ({ ok: { subject: 'the API key', predicate: 'is known' }, missing: { subject: 'the API key', predicate: 'is missing' }, invalid: { subject: 'the API key', predicate: 'is unknown, expired or revoked' }, ...partner } as Record<string, Clause>)[port];
    case 'hmac-verify':
      return ({ ok: { subject: 'the request signature', predicate: 'is valid' }, missing: { subject: 'the request signature', predicate: 'is missing' }, invalid: { subject: 'the request signature', predicate: 'is malformed, stale, made with an unknown key or wrong' }, replayed: { subject: 'the request signature', predicate: 'was used already' }, ...partner } as Record<string, Clause>)[port];
    case 'client-cert':
      return ({ ok: { subject: 'the client certificate', predicate: 'is verified and identifies a registered partner' }, missing: { subject: 'the client certificate', predicate: 'is missing' }, invalid: { subject: 'the client certificate', predicate: 'is not verified (another CA, expired, not yet valid) or identifies no registered partner' }, ...partner } as Record<string, Clause>)[port];
    case 'cors':
      return ({ ok: { subject: 'the request', predicate: 'is not a preflight and comes from an allowed origin or none' }, preflight: { subject: 'the request', predicate: 'is an allowed CORS preflight' }, denied: { subject: 'the origin, or the method or headers a preflight asks for,', predicate: 'is not allowed' } } as Record<string, Clause>)[port];
    case 'validate-request':
      return ({ ok: { subject: 'the request', predicate: 'matches its schemas' }, invalid: { subject: 'the request', predicate: 'does not match its schemas' } } as Record<string, Clause>)[port];
    case 'prompt-guard':
      return ({ ok: { subject: 'the prompt', predicate: 'passes the prompt guard\'s checks (redacted where a detector says so)' }, blocked: { subject: 'the prompt', predicate: 'breaks a rule of the prompt guard (a deny pattern, no allow pattern, a blocking PII detector or the token maximum)' } } as Record<string, Clause>)[port];
    case 'http-call': {
      const service = `the side service (${String(c.name ?? 'call')})`;
      return ({ ok: { subject: service, predicate: 'answers 2xx' }, error: { subject: service, predicate: 'cannot be reached or answers another status' }, timeout: { subject: service, predicate: `does not answer within ${String(c.timeout ?? '2s')}` } } as Record<string, Clause>)[port];
    }
    case 'cache-lookup':
      return ({ hit: { subject: 'a fresh cached answer', predicate: 'is found' }, miss: { subject: 'nothing', predicate: 'is cached for the key' } } as Record<string, Clause>)[port];
    case 'scope-check': {
      const all = (c.all as string[] | undefined) ?? [];
      const any = (c.any as string[] | undefined) ?? [];
      if (port === 'ok') return { subject: 'the caller', predicate: `holds ${[...(all.length ? [scopes(all)] : []), ...(any.length ? [`one of ${scopes(any)}`] : [])].join(' and ')}` };
      if (port !== 'denied') return undefined;
      const missing = [...(all.length === 1 ? [`scope ${all[0]} is missing`] : all.length > 1 ? [`one of ${scopes(all)} is missing`] : []), ...(any.length ? [`none of ${scopes(any)} is granted`] : [])];
      return { subject: '', predicate: missing.join(' or ') };
    }
    case 'condition':
      return port === 'true' || port === 'false' ? { subject: `the condition ${quote(String(c.when ?? ''))}`, predicate: `is ${port}` } : undefined;
    case 'switch': {
      const cases = (c.cases as Array<{ port: string; when: string }> | undefined) ?? [];
      if (port === 'default') return { subject: '', predicate: `no case of ${nodeName(node)} holds` };
      const hit = cases.find((k) => k.port === port);
      return hit ? { subject: `the case ${quote(hit.when)}`, predicate: 'holds (the first that does)' } : undefined;
    }
    case 'mcp-tool': {
      if (port === 'other') return { subject: 'the MCP message', predicate: 'is not a tools/call of a tool this node names' };
      if (port === 'invalid') return { subject: 'the body', predicate: 'is not a JSON-RPC message, names no tool, or is a batch holding a tools/call' };
      const names = ((c.tools as Array<{ name: string; port: string }> | undefined) ?? []).filter((t) => t.port === port).map((t) => quote(t.name));
      return names.length ? { subject: 'the MCP message', predicate: `is a tools/call of ${list(names, 'or')}` } : undefined;
    }
    case 'rate-limit': {
      const per = `per ${String(c.window ?? '1m')} per ${String(c.key ?? 'partner')}`;
      const budget = c.cost !== undefined;
      const limit = c.limit === 'plan' ? (budget ? 'the partner’s plan token budget' : 'the partner’s plan limit') : `${String(c.limit)} ${budget ? 'tokens' : 'requests'}`;
      if (port === 'ok') return { subject: 'the caller', predicate: `is within ${limit} ${per}` };
      if (port === 'limited') return { subject: 'the caller', predicate: budget ? `has spent ${limit} ${per}, or the prompt needs more than is left` : `sends more than ${limit} ${per}` };
      if (port === 'unavailable') return { subject: 'the shared rate-limit counters (Redis)', predicate: 'cannot be reached and the node denies then' };
      return undefined;
    }
    case 'proxy':
      if (port === 'ok') return { subject: 'the upstream', predicate: 'answers' };
      if (port === 'error') return { subject: 'the upstream', predicate: 'cannot be reached or breaks the connection' };
      if (port === 'timeout') return { subject: 'the upstream', predicate: `does not answer within ${String(c.timeout ?? '10s')}` };
      if (port === 'open') return { subject: 'every upstream target', predicate: 'has its circuit breaker open' };
      if (port === 'model_denied') {
        const models = ((c.llm as { models?: string[] } | undefined)?.models ?? []).slice(0, MAX_ARRIVALS);
        return { subject: 'the request', predicate: models.length > 0 ? `asks for a model other than ${list(models, 'or')}, or names none` : 'names no model the node allows' };
      }
      return undefined;
    case 'transform-request':
    case 'transform-response':
      if (port === 'error') return { subject: `an expression of ${nodeName(node)}`, predicate: 'fails or makes an invalid value' };
      return undefined;
    default:
      return undefined;
  }
}

const sentence = (c: Clause) => (c.subject ? `${c.subject} ${c.predicate}` : c.predicate);

/** The words for leaving `node` by `port`, with the port's own description as the fallback. */
export function portWords(node: WordsNode, port: string, description?: string): string {
  const c = clause(node, port);
  if (c) return sentence(c);
  const text = (description ?? `${nodeName(node)} leaves by "${port}"`).replace(/\.$/, '');
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * Why a node is reached, from the edges into it: "the JWT is missing or invalid". Clauses of one
 * subject merge ("is missing or invalid"); the start node is reached by every request.
 */
export function arrivalWords(into: ReadonlyArray<{ from: WordsNode; port: string; description?: string | undefined }>, isStart: boolean): string {
  if (into.length === 0) return isStart ? 'every request (it is the first node)' : 'no request (nothing leads to it)';
  // clauses by subject (a subject-less clause stands alone), each predicate once
  const bySubject = new Map<string, { subject: string; predicates: string[] }>();
  const merged: Array<{ subject: string; predicates: string[] }> = [];
  for (const edge of into) {
    const c = clause(edge.from, edge.port) ?? { subject: '', predicate: portWords(edge.from, edge.port, edge.description) };
    const same = c.subject === '' ? undefined : bySubject.get(c.subject);
    if (!same) {
      const fresh = { subject: c.subject, predicates: [c.predicate] };
      merged.push(fresh);
      if (c.subject !== '') bySubject.set(c.subject, fresh);
    } else if (!same.predicates.includes(c.predicate) && same.predicates.length < MAX_ARRIVALS) same.predicates.push(c.predicate);
  }
  const joined = ({ subject, predicates: [first, ...rest] }: { subject: string; predicates: string[] }) =>
    sentence({ subject, predicate: [first!, ...rest.map((p) => (first!.startsWith('is ') ? p.replace(/^is /, '') : p))].join(' or ') });
  // a node many edges lead into says the first few ways and how many more: the words stay short
  const said = merged.slice(0, MAX_ARRIVALS).map(joined);
  if (merged.length > MAX_ARRIVALS) said.push(`${merged.length - MAX_ARRIVALS} other ways`);
  return said.join(', or ');
}

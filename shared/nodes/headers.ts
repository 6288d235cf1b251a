import jsonata from 'jsonata';

/** Hop-by-hop headers (RFC 9110 7.6.1): they describe one connection and are never forwarded, either way. */
export const HOP_BY_HOP_HEADERS = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'] as const;

/**
 * Headers only the gateway sets on what it sends: the hop-by-hop ones and the body's framing
 * (content-length; transfer-encoding is hop-by-hop). An answer carrying a workflow's
 * Transfer-Encoding beside the gateway's Content-Length is read one way by a front proxy and
 * another by the client (response splitting on a kept-alive connection).
 */
export const GATEWAY_MANAGED_HEADERS: ReadonlySet<string> = new Set<string>([...HOP_BY_HOP_HEADERS, 'content-length']);

/** Why a node may not set a managed header, as validation reports it. */
export const managedHeaderMessage = (name: string) => `header "${name}" is the gateway's to set (hop-by-hop or framing): a workflow may not set it`;

interface AstNode {
  type: string;
  value?: unknown;
  lhs?: unknown;
  then?: AstNode;
  else?: AstNode;
  expressions?: AstNode[];
  steps?: AstNode[];
  arguments?: AstNode[];
  procedure?: AstNode;
}

/**
 * The header names a `headers` expression writes as literals: the keys of the object it ends
 * with, through conditions, blocks, paths and `$merge([...])`. A best effort at publish time, so
 * the editor pins `{ "transfer-encoding": "chunked" }` on its node; names computed at run time
 * are dropped by the runtime anyway. An expression that does not parse names none (its syntax
 * error is reported on its own).
 */
export function literalHeaderNames(source: string): string[] {
  let ast: AstNode;
  try {
    ast = jsonata(source).ast() as AstNode;
  } catch {
    return [];
  }
  const names: string[] = [];
  const visit = (node: AstNode | undefined, depth: number): void => {
    if (node === undefined || depth > 32) return;
    if (node.type === 'unary' && node.value === '{' && Array.isArray(node.lhs)) {
      for (const [key] of node.lhs as Array<[AstNode, AstNode]>) if (key?.type === 'string' && typeof key.value === 'string') names.push(key.value.toLowerCase());
    } else if (node.type === 'unary' && node.value === '[') node.expressions?.forEach((e) => visit(e, depth + 1));
    else if (node.type === 'condition') {
      visit(node.then, depth + 1);
      visit(node.else, depth + 1);
    } else if (node.type === 'block') visit(node.expressions?.at(-1), depth + 1);
    else if (node.type === 'path') visit(node.steps?.at(-1), depth + 1);
    else if (node.type === 'function' && node.procedure?.value === 'merge') node.arguments?.forEach((a) => visit(a, depth + 1));
  };
  visit(ast, 0);
  return names;
}

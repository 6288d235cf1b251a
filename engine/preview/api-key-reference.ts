import { randomBytes } from 'node:crypto';
import type { ValidGraph, ValidationProblem } from '../../shared/compile/index.ts';
import type { ApiKeyConfig } from '../../shared/nodes/index.ts';
import type { SampleRequest } from '../../shared/schema/preview.ts';
import { hashApiKey } from '../kinds/api-key.ts';
import type { PartnerAccess } from '../kinds/support/partner-directory.ts';

type Minted = { key: string; header: string; partners?: PartnerAccess } | { problem: ValidationProblem };

const problem = (message: string, field: string): { problem: ValidationProblem } => ({ problem: { code: 'invalid_document', message, field } });

/**
 * Resolves a request's `apiKey` reference for one run: a fresh key with the partner and scopes
 * of the named key, so a stored test or sample never holds a key. An inline key (`hash`) is added
 * beside the named one in the graph's api-key nodes (this run's copy); a partner key (`key`, its
 * id) is added to a copy of the partner directory under a fresh prefix. Nothing stored changes,
 * and the named key's last use is not touched.
 */
export function mintApiKey(graph: ValidGraph, reference: NonNullable<SampleRequest['apiKey']>, partners: PartnerAccess | undefined): Minted {
  const apiKeyNodes = [...graph.nodes.values()].filter((node) => node.kind === 'api-key');
  const header = (reference.header ?? (apiKeyNodes[0]?.config as ApiKeyConfig | undefined)?.header ?? 'x-api-key').toLowerCase();
  const secret = randomBytes(24).toString('base64url');
  if (reference.hash !== undefined) {
    const key = `preview_${secret}`;
    let found = false;
    for (const node of apiKeyNodes) {
      const config = node.config as ApiKeyConfig;
      const entry = config.keys.find((k) => k.hash === reference.hash);
      if (!entry) continue;
      found = true;
      node.config = { ...config, keys: [...config.keys, { ...entry, hash: hashApiKey(key) }] };
    }
    return found ? { key, header } : problem('no api-key node of this workflow lists this key', 'request.apiKey.hash');
  }
  const directory = partners?.current;
  const named = directory ? [...directory.keys.values()].find((k) => k.id === reference.key) : undefined;
  if (!directory || !named) return problem(`no active partner key "${reference.key}" (unknown or revoked)`, 'request.apiKey.key');
  let prefix: string;
  do prefix = randomBytes(6).toString('hex').slice(0, 8);
  while (directory.keys.has(prefix));
  const key = `sk_${prefix}_${secret}`;
  const keys = new Map(directory.keys).set(prefix, { ...named, hash: hashApiKey(key) });
  return { key, header, partners: { current: { ...directory, keys }, lastUsed: new Map() } };
}

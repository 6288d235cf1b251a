import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IMPORT_IDENTITIES, workflowsFromOpenApi, type ImportIdentity } from '../../shared/compile/openapi-import.ts';
import type { createAdminClient } from '../admin/client.ts';

export const OPENAPI_USAGE = `  import openapi <file> --upstream URL [--identity api-key|jwt-verify|introspect|client-cert|hmac-verify|none]
                 [--issuer I] [--jwks-uri U] [--audience A] [--introspection-endpoint E] [--client-id C] [--client-secret-env NAME]
                                 make one draft per operation of an OpenAPI 3 file (JSON or YAML): route, identity,
                                 scope-check for its OAuth scopes, validate-request from its parameters and body, proxy
                                 to URL (e.g. '\${SLUICE_UPSTREAM_ORDERS}'); nothing is published (admin API)`;

/**
 * `sluice import openapi`: the drafts of workflowsFromOpenApi, created through the admin API
 * (an id that exists already is left alone, and said so). Exit 1 when one was refused.
 */
export async function importOpenApi(args: string[], client: () => ReturnType<typeof createAdminClient>, out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
      upstream: { type: 'string' },
      identity: { type: 'string', default: 'api-key' },
      'jwks-uri': { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      'introspection-endpoint': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-env': { type: 'string' },
    },
  });
  const [what, file] = positionals;
  const identity = values.identity as ImportIdentity;
  if (what !== 'openapi' || !file || !values.upstream || !IMPORT_IDENTITIES.includes(identity)) {
    out(`usage:\n${OPENAPI_USAGE}`);
    return 2;
  }
  const text = readFileSync(file, 'utf8');
  // yaml is loaded here, not by every start of the CLI (~25 ms of each)
  const spec: unknown = /^\s*\{/.test(text) ? JSON.parse(text) : (await import('yaml')).parse(text);
  const defined = <T extends Record<string, string | undefined>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
  const imported = workflowsFromOpenApi(spec, {
    upstream: values.upstream,
    identity,
    jwt: defined({ jwksUri: values['jwks-uri'], issuer: values.issuer, audience: values.audience }),
    introspection: defined({ endpoint: values['introspection-endpoint'], issuer: values.issuer, clientId: values['client-id'], clientSecretEnv: values['client-secret-env'], audience: values.audience }),
  });
  const admin = client();
  let refused = false;
  for (const { document, notes } of imported) {
    const route = document.route as { methods: string[]; path: string };
    const answer = await admin.call('POST', '/workflows', { document });
    const where = `${String(document.id)} (${route.methods.join(',')} ${route.path})`;
    if (answer.status === 201) out(`draft      ${where}${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`);
    else if (answer.status === 409) out(`exists     ${where}: left as it is`);
    else {
      refused = true;
      out(`refused    ${where}: ${String(answer.body.detail ?? `HTTP ${answer.status}`)}`);
    }
  }
  return refused ? 1 : 0;
}

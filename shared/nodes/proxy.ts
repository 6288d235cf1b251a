import { z } from 'zod';
import { boundedDurationSchema, MAX_TIMER_MS } from '../schema/duration.ts';
import { defineKind } from './kind.ts';

const proxyConfig = z
  .object({
    url: z
      .string()
      // ${NAME} only as the whole base: its value then goes to the host it names, never into another URL's path or host
      .regex(/^(https?:\/\/(?:(?!\$\{)\S)+|\$\{[A-Z_][A-Z0-9_]*\}(?:[/?#](?:(?!\$\{)\S)*)?)$/, 'must be an http(s) URL, or ${ENV_VAR} alone or followed by a path (/, ? or #)')
      .meta({
        title: 'Upstream URL',
        description:
          'Base URL of the upstream. It may start with ${NAME}, replaced at publish time by an environment variable the operator allows (SLUICE_WORKFLOW_ENV; default SLUICE_UPSTREAM_* and SLUICE_DEMO_UPSTREAM) and followed only by a path. The host must pass the egress policy (SLUICE_EGRESS_ALLOW): loopback, private, link-local and metadata addresses are refused unless allowed.',
      }),
    path: z
      .string()
      .max(1000)
      .regex(/^\//, 'must start with /')
      .optional()
      .meta({ title: 'Path rewrite', description: 'Upstream path template with :params, e.g. /v2/orders/:id. Default: the request path, less stripPrefix.' }),
    stripPrefix: z.string().regex(/^\/.*/).optional().meta({ title: 'Strip prefix', description: 'Removed from the request path before it is appended to the URL.' }),
    // 0 would disable undici's timeouts and more than a timer's maximum would fire at once
    timeout: boundedDurationSchema(1, MAX_TIMER_MS).default('10s').meta({ title: 'Timeout', description: 'Whole upstream call, headers and body.' }),
    preserveHost: z.boolean().default(false).meta({ title: 'Preserve Host', description: 'Send the client\'s Host header instead of the upstream\'s.' }),
    forwardAuthorization: z.boolean().default(true).meta({ title: 'Forward Authorization', description: 'Pass the client\'s Authorization header upstream.' }),
  })
  .strict();

export type ProxyConfig = z.infer<typeof proxyConfig>;

export const proxyKind = defineKind<ProxyConfig>({
  kind: 'proxy',
  title: 'Proxy',
  category: 'Upstream',
  description: 'Calls the upstream (undici keep-alive pool) with the request; streams bodies unless a later node reads them.',
  config: proxyConfig,
  ports: () => [
    { name: 'ok', description: 'The upstream answered (any status); unwired, its answer is returned.', unwired: 'finish' },
    { name: 'error', description: 'The upstream could not be reached or broke the connection.', unwired: { error: 'upstream_unavailable' } },
    { name: 'timeout', description: 'The upstream did not answer in time.', unwired: { error: 'upstream_timeout' } },
  ],
  errors: ['upstream_unavailable', 'upstream_timeout'],
  expressions: () => [],
  producesResponse: true,
});

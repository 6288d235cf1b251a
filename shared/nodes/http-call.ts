import { z } from 'zod';
import { boundedDurationSchema } from '../schema/duration.ts';
import { defineKind, mentionsBody, type ExpressionRef } from './kind.ts';

const expression = (title: string, description: string) => z.string().min(1).max(20_000).optional().meta({ title, description, format: 'jsonata' });

const httpCallConfig = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a name such as profile: letters, digits and _')
      .meta({ title: 'Result name', description: 'The answer is put in vars.<name>: { status, headers, body } (body parsed when it is JSON; headers as text, repeated ones joined by commas, without the connection\'s own: hop-by-hop ones and Content-Length).' }),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET').meta({ title: 'Method' }),
    url: z
      .string()
      .regex(/^(https?:\/\/(?:(?!\$\{)\S)+|\$\{[A-Z_][A-Z0-9_]*\}(?:[/?#](?:(?!\$\{)\S)*)?)$/, 'must be an http(s) URL, or ${ENV_VAR} alone or followed by a path (/, ? or #)')
      .meta({ title: 'URL', description: 'The side service, written like a proxy URL (a leading ${NAME} from the allowed environment). Its host must be one of SLUICE_CALLOUT_HOSTS and pass the egress policy.' }),
    query: expression('Query', 'JSONata giving an object of query parameters added to the URL.'),
    headers: expression('Headers', 'JSONata giving an object of request headers.'),
    body: expression('Body', 'JSONata giving the JSON body (not with GET).'),
    timeout: boundedDurationSchema(1, 30_000).default('2s').meta({ title: 'Timeout', description: 'The whole call, at most 30s.' }),
    maxBytes: z.number().int().min(1).max(10 * 1024 * 1024).default(1024 * 1024).meta({ title: 'Largest answer (bytes)', description: 'A longer answer fails the call (error port).' }),
  })
  .strict()
  .refine((c) => !(c.method === 'GET' && c.body !== undefined), { path: ['body'], message: 'a GET call has no body' });

export type HttpCallConfig = z.infer<typeof httpCallConfig>;

const expressionsOf = (c: HttpCallConfig): ExpressionRef[] =>
  (['query', 'headers', 'body'] as const).flatMap((field) => (c[field] === undefined ? [] : [{ field, source: c[field]! }]));

export const httpCallKind = defineKind<HttpCallConfig>({
  kind: 'http-call',
  title: 'HTTP call',
  category: 'Upstream',
  description: 'Calls a side service mid-flow (a profile, a price, a feature flag) and puts its answer in vars.<name> for later nodes; only hosts the deployment allows (SLUICE_CALLOUT_HOSTS).',
  config: httpCallConfig,
  ports: () => [
    { name: 'ok', description: 'The service answered 2xx: vars.<name> holds its answer.', unwired: 'required' },
    { name: 'error', description: 'It could not be reached, answered another status (vars.<name> holds it), or too much.', unwired: { error: 'callout_failed' } },
    { name: 'timeout', description: 'It did not answer within the timeout.', unwired: { error: 'callout_timeout' } },
  ],
  errors: ['callout_failed', 'callout_timeout', 'expression_failed'],
  expressions: expressionsOf,
  readsRequestBody: (c) => mentionsBody(expressionsOf(c)),
});

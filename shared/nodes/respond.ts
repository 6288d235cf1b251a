import { z } from 'zod';
import { GATEWAY_MANAGED_HEADERS, managedHeaderMessage } from './headers.ts';
import { defineKind, mentionsBody } from './kind.ts';

/**
 * What Node's writeHead accepts (anything else would fail every request instead of the
 * publish), less the headers the gateway sets itself (hop-by-hop and framing).
 */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name')
  .refine((name) => !GATEWAY_MANAGED_HEADERS.has(name.toLowerCase()), { error: (issue) => managedHeaderMessage(String(issue.input).toLowerCase()) });
const headerValue = z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must not contain control characters');

const respondConfig = z
  .object({
    status: z.number().int().min(200).max(599).default(200).meta({ title: 'Status' }),
    headers: z.record(headerName, headerValue).default({}).meta({ title: 'Headers', description: 'Answer headers. Hop-by-hop and framing headers (connection, keep-alive, transfer-encoding, content-length, upgrade…) are the gateway\'s: refused.' }),
    body: z.unknown().optional().meta({ title: 'Body', description: 'Static JSON body.' }),
    bodyExpression: z.string().min(1).max(20_000).optional().meta({ title: 'Body expression', description: 'JSONata giving the body; wins over the static body.', format: 'jsonata' }),
  })
  .strict();

export type RespondConfig = z.infer<typeof respondConfig>;

export const respondKind = defineKind<RespondConfig>({
  kind: 'respond',
  title: 'Respond',
  category: 'Answer',
  description: 'Answers the request with a static or templated response (also for mocks).',
  config: respondConfig,
  ports: () => [{ name: 'done', description: 'The response is sent.', unwired: 'finish' }],
  errors: ['expression_failed'],
  expressions: (c) => (c.bodyExpression ? [{ field: 'bodyExpression', source: c.bodyExpression }] : []),
  terminal: true,
  producesResponse: true,
  readsRequestBody: (c) => mentionsBody(c.bodyExpression ? [{ field: 'bodyExpression', source: c.bodyExpression }] : []),
});

import { z } from 'zod';
import { GATEWAY_MANAGED_HEADERS, literalHeaderNames, managedHeaderMessage } from './headers.ts';
import { defineKind, mentionsBody, type ExpressionRef } from './kind.ts';

const expr = (title: string, description: string) =>
  z.string().min(1).max(20_000).optional().meta({ title, description, format: 'jsonata' });

const transformRequestConfig = z
  .object({
    headers: expr('Headers', 'Object of header -> value merged into the request headers; a null value removes the header. Hop-by-hop and framing headers are the gateway\'s: refused when named literally, dropped when computed.'),
    query: expr('Query', 'Object of name -> value merged into the query string; null removes.'),
    body: expr('Body', 'The new request body, sent as JSON (a string as it is); no value sends an empty body without Content-Type.'),
    path: expr('Path', 'The new upstream path, e.g. "/v2" & request.path.'),
    vars: expr('Variables', 'Object merged into vars, for later nodes.'),
    removeHeaders: z.array(z.string().min(1)).default([]).meta({ title: 'Remove headers' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    // hop-by-hop and framing headers are the gateway's: named literally, refused here; computed at run time, dropped
    if (c.headers === undefined) return;
    for (const name of literalHeaderNames(c.headers))
      if (GATEWAY_MANAGED_HEADERS.has(name)) ctx.addIssue({ code: 'custom', path: ['headers'], message: managedHeaderMessage(name) });
  });

export type TransformRequestConfig = z.infer<typeof transformRequestConfig>;

const FIELDS = ['headers', 'query', 'body', 'path', 'vars'] as const;
const expressionsOf = (c: TransformRequestConfig): ExpressionRef[] =>
  FIELDS.flatMap((field) => (c[field] === undefined ? [] : [{ field, source: c[field] }]));

export const transformRequestKind = defineKind<TransformRequestConfig>({
  kind: 'transform-request',
  title: 'Transform request',
  category: 'Transform',
  description: 'Reshapes the request before the upstream sees it: headers, query, body, path, vars (JSONata).',
  config: transformRequestConfig,
  ports: () => [
    { name: 'ok', description: 'The request was transformed.', unwired: 'required' },
    { name: 'error', description: 'An expression failed or produced an invalid value.', unwired: { error: 'transform_failed' } },
  ],
  errors: ['transform_failed'],
  expressions: expressionsOf,
  readsRequestBody: (c) => c.body !== undefined || mentionsBody(expressionsOf(c)),
});

import { z } from 'zod';
import { GATEWAY_MANAGED_HEADERS, literalHeaderNames, managedHeaderMessage } from './headers.ts';
import { defineKind, mentionsBody, type ExpressionRef } from './kind.ts';

const expr = (title: string, description: string) =>
  z.string().min(1).max(20_000).optional().meta({ title, description, format: 'jsonata' });

const transformResponseConfig = z
  .object({
    status: expr('Status', 'The new status code.'),
    headers: expr('Headers', 'Object of header -> value merged into the response headers; a null value removes the header. Hop-by-hop and framing headers are the gateway\'s: refused when named literally, dropped when computed.'),
    body: expr('Body', 'The new response body (JSON), e.g. { "items": response.body.orders }.'),
    removeHeaders: z.array(z.string().min(1)).default([]).meta({ title: 'Remove headers' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    // hop-by-hop and framing headers are the gateway's: named literally, refused here; computed at run time, dropped
    if (c.headers === undefined) return;
    for (const name of literalHeaderNames(c.headers))
      if (GATEWAY_MANAGED_HEADERS.has(name)) ctx.addIssue({ code: 'custom', path: ['headers'], message: managedHeaderMessage(name) });
  });

export type TransformResponseConfig = z.infer<typeof transformResponseConfig>;

const FIELDS = ['status', 'headers', 'body'] as const;
const expressionsOf = (c: TransformResponseConfig): ExpressionRef[] =>
  FIELDS.flatMap((field) => (c[field] === undefined ? [] : [{ field, source: c[field] }]));

export const transformResponseKind = defineKind<TransformResponseConfig>({
  kind: 'transform-response',
  title: 'Transform response',
  category: 'Transform',
  description: 'Reshapes the upstream\'s answer before the client sees it: status, headers, body (JSONata).',
  config: transformResponseConfig,
  ports: () => [
    { name: 'ok', description: 'The response was transformed; unwired, it is answered.', unwired: 'finish' },
    { name: 'error', description: 'An expression failed or produced an invalid value.', unwired: { error: 'transform_failed' } },
  ],
  errors: ['transform_failed'],
  expressions: expressionsOf,
  requiresResponse: true,
  readsRequestBody: (c) => mentionsBody(expressionsOf(c).filter((e) => /request/.test(e.source))),
});

import { z } from 'zod';
import { HTTP_METHODS } from '../schema/workflow.ts';
import { defineKind } from './kind.ts';

/**
 * An allowed origin: `*` (any), an exact origin (`https://app.example.com`, scheme + host + an
 * optional port, no path), or one with a wildcard for subdomains (`https://*.example.com`: one or
 * more labels before `example.com`, never `example.com` itself).
 */
const ORIGIN = /^(\*|null|https?:\/\/(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?)$/;
const origin = z.string().max(300).regex(ORIGIN, 'must be *, null, or an origin such as https://app.example.com or https://*.example.com (scheme and host in lower case, no path)');
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name').max(200);

const corsConfig = z
  .object({
    origins: z.array(origin).min(1).max(100).meta({ title: 'Allowed origins', description: 'Origins whose browsers may call this route: exact (https://app.example.com), subdomain wildcards (https://*.example.com) or * for any (not with credentials).' }),
    methods: z.array(z.enum(HTTP_METHODS)).min(1).default(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).meta({ title: 'Allowed methods', description: 'Methods a preflight may ask for (Access-Control-Allow-Methods).' }),
    headers: z
      .array(headerName) // `*` is a header name's character too
      .max(100)
      .default(['authorization', 'content-type'])
      .meta({ title: 'Allowed request headers', description: 'Headers a preflight may ask for (Access-Control-Allow-Headers); * allows any (not with credentials). CORS-safelisted headers are always allowed.' }),
    expose: z.array(headerName).max(100).default([]).meta({ title: 'Exposed answer headers', description: 'Answer headers a browser script may read beyond the safelisted ones (Access-Control-Expose-Headers), e.g. RateLimit-Remaining.' }),
    credentials: z.boolean().default(false).meta({ title: 'Allow credentials', description: 'Let browsers send cookies and HTTP authentication (Access-Control-Allow-Credentials); needs explicit origins and headers.' }),
    maxAge: z.number().int().min(0).max(86_400).default(600).meta({ title: 'Preflight cache (seconds)', description: 'How long a browser may reuse a preflight answer (Access-Control-Max-Age).' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.credentials && c.origins.includes('*')) ctx.addIssue({ code: 'custom', path: ['origins'], message: 'with credentials, name the origins: browsers refuse * with credentials' });
    if (c.credentials && c.headers.includes('*')) ctx.addIssue({ code: 'custom', path: ['headers'], message: 'with credentials, name the headers: browsers read * literally with credentials' });
  });

export type CorsConfig = z.infer<typeof corsConfig>;

export const corsKind = defineKind<CorsConfig>({
  kind: 'cors',
  title: 'CORS',
  category: 'Access',
  description: 'Lets browsers on the allowed origins call the route: answers preflights itself (204) and adds the CORS headers to every answer, errors included. Put it before identity nodes: preflights carry no credentials.',
  config: corsConfig,
  ports: () => [
    { name: 'ok', description: 'Not a preflight, from an allowed origin or with no Origin (not a browser\'s cross-origin call).', unwired: 'required' },
    { name: 'preflight', description: 'An allowed preflight (OPTIONS with Access-Control-Request-Method): answered 204 with the CORS headers when unwired.', unwired: 'finish' },
    { name: 'denied', description: 'The origin, or the method or headers a preflight asks for, is not allowed.', unwired: { error: 'cors_rejected' } },
  ],
  errors: ['cors_rejected'],
  expressions: () => [],
  answersOn: ['preflight'],
});

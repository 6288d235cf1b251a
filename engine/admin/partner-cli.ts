import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { adminProblemSchema, createdHmacSecretSchema, createdKeySchema, partnerListSchema, partnerViewSchema, planSchema, productSchema, revokedKeySchema } from '../../shared/admin/index.ts';
import type { PlanLimit } from '../../shared/schema/partners.ts';
import type { createAdminClient } from './client.ts';

type Client = ReturnType<typeof createAdminClient>;

export const PARTNER_USAGE = `  partner create <id> --name N [--plan P] [--product X…] [--client-id C…] [--contact E…]
                                 register a partner (admin API)
  partner list                   partners with status, products, plan and keys
  partner suspend <id> [--reason R] | partner reactivate <id> [--reason R]
  partner key create <partner> [--scope S…] [--expires ISO-8601]
                                 create an API key; printed once, stored only as a hash
  partner key rotate <partner> <key> [--overlap 24h]
                                 a new key; the old one keeps working for the overlap
  partner key revoke <partner> <key>
  partner hmac-secret create <partner>
                                 create an HMAC signing secret (hmac-verify); printed once, never shown again
  partner hmac-secret rotate <partner> <key id> [--overlap 24h]
  partner hmac-secret revoke <partner> <key id>
  product put <id> --name N --workflow W…
                                 create or replace an API product
  plan put <id> --name N [--limit <product>=<n>/<window>…] [--tokens <product>=<n>/<window>…]
                 [--models <product>=<model>,<prefix>*…]
                                 create or replace a plan, e.g. --limit orders-api=100/1m;
                                 --tokens: an LLM token budget, e.g. --tokens ai-api=50000/1h;
                                 --models: the LLM models allowed, e.g. --models ai-api=gpt-4o-mini,claude-*`;

const many = { type: 'string', multiple: true } as const;
const one = { type: 'string' } as const;

/** Prints a refused call: the problem's detail and the problems it names; the exit code. */
export function refused(status: number, body: unknown): number {
  const problem = adminProblemSchema.partial().safeParse(body);
  process.stderr.write(`refused (${status}): ${problem.success ? (problem.data.detail ?? '') : ''}\n`);
  for (const p of (problem.success ? problem.data.problems : undefined) ?? []) process.stderr.write(`  - ${p.field ?? ''}: ${p.message}\n`);
  return 1;
}

/** Prints the admin API's answer: a refusal, or the line `ok` makes of the answer its schema reads. */
async function report<S extends z.ZodType>(answer: Promise<{ status: number; body: unknown }>, schema: S, ok: (body: z.infer<S>) => string): Promise<number> {
  const { status, body } = await answer;
  if (status >= 300) return refused(status, body);
  process.stdout.write(`${ok(schema.parse(body))}\n`);
  return 0;
}

const usage = (message: string): never => {
  throw Object.assign(new Error(`usage: sluice ${message}`), { code: 'ERR_PARSE_ARGS_USAGE' });
};

/** `sluice partner hmac-secret create|rotate|revoke …`: a partner's HMAC signing secrets; a new secret is printed once. */
function hmacSecretCommand(rest: string[], client: () => Client, path: (...parts: string[]) => string): Promise<number> {
  const [action, ...more] = rest;
  const { values, positionals } = parseArgs({ args: more, allowPositionals: true, options: { overlap: one } });
  const shownOnce = (s: z.infer<typeof createdHmacSecretSchema>) => `${s.secret}\n(HMAC secret ${s.id} of ${s.partner}${s.replaced ? `, replacing ${s.replaced} until the overlap ends` : ''}: shown once, never again; keep it now)`;
  if (action === 'create' && positionals[0]) return report(client().call('POST', path('partners', positionals[0], 'hmac-secrets'), {}), createdHmacSecretSchema, shownOnce);
  if (action === 'rotate' && positionals[1]) return report(client().call('POST', path('partners', positionals[0]!, 'hmac-secrets', positionals[1], 'rotate'), values.overlap ? { overlap: values.overlap } : {}), createdHmacSecretSchema, shownOnce);
  if (action === 'revoke' && positionals[1]) return report(client().call('POST', path('partners', positionals[0]!, 'hmac-secrets', positionals[1], 'revoke'), {}), revokedKeySchema, (k) => `HMAC secret ${k.id} revoked at ${k.revokedAt}`);
  return usage('partner hmac-secret create <partner> | rotate <partner> <key id> [--overlap 24h] | revoke <partner> <key id>');
}

/** `sluice partner|product|plan …`: partners, keys, products and plans through the admin API. */
export async function partnerCommand(command: 'partner' | 'product' | 'plan', args: string[], client: () => Client): Promise<number> {
  const [verb, ...rest] = args;
  const path = (...parts: string[]) => `/${parts.map(encodeURIComponent).join('/')}`;
  if (command === 'product') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { name: one, workflow: many, description: one } });
    if (verb !== 'put' || !positionals[0] || !values.name) usage('product put <id> --name N --workflow W…');
    return report(client().call('PUT', path('products', positionals[0]!), { name: values.name, workflows: values.workflow ?? [], ...(values.description ? { description: values.description } : {}) }), productSchema, (p) => `product ${p.id}: ${p.workflows.join(', ') || 'no workflows'}`);
  }
  if (command === 'plan') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { name: one, limit: many, tokens: many, models: many } });
    const synopsis = 'plan put <id> --name N [--limit <product>=<n>/<window>…] [--tokens <product>=<n>/<window>…] [--models <product>=<model>,<prefix>*…]';
    if (verb !== 'put' || !positionals[0] || !values.name) usage(synopsis);
    /** A `<product>=<value>` option's values by product, each read by `shape` (refused with `example` when it does not match). */
    const perProduct = <T>(option: 'limit' | 'tokens' | 'models', shape: RegExp, example: string, valueOf: (match: RegExpExecArray) => T) =>
      new Map(
        (values[option] ?? []).map((text) => {
          const match = new RegExp(`^([^=]+)=${shape.source}$`).exec(text);
          if (!match) usage(`plan put: --${option} ${text} is not ${example}`);
          return [match![1]!, valueOf(match!)];
        }),
      );
    const perWindow = (match: RegExpExecArray) => ({ limit: Number(match[2]), window: match[3]! });
    const requests = perProduct('limit', /(\d+)\/(\S+)/, '<product>=<n>/<window>, e.g. orders-api=100/1m', perWindow);
    const tokens = perProduct('tokens', /(\d+)\/(\S+)/, '<product>=<n>/<window>, e.g. orders-api=50000/1h', perWindow);
    const models = perProduct('models', /(\S+)/, '<product>=<model>,<prefix>*…, e.g. ai-api=gpt-4o-mini,claude-*', (match) => match[2]!.split(',').filter(Boolean));
    const limits: Record<string, PlanLimit> = {};
    for (const [product, limit] of requests) limits[product] = { ...limit, ...(tokens.has(product) ? { tokens: tokens.get(product)! } : {}), ...(models.has(product) ? { models: models.get(product)! } : {}) };
    for (const [option, given] of [['tokens', tokens], ['models', models]] as const)
      for (const product of given.keys()) if (!requests.has(product)) usage(`plan put: --${option} ${product}=… needs a --limit for ${product} too (a plan's product limit counts requests; its token budget and models go with it)`);
    const shown = (l: PlanLimit) => `${l.limit}/${l.window}${l.tokens ? ` and ${l.tokens.limit} tokens/${l.tokens.window}` : ''}${l.models ? ` (models ${l.models.join(', ')})` : ''}`;
    return report(client().call('PUT', path('plans', positionals[0]!), { name: values.name, limits }), planSchema, (p) => `plan ${p.id}: ${Object.entries(p.limits).map(([k, l]) => `${k} ${shown(l)}`).join(', ') || 'no limits'}`);
  }
  switch (verb) {
    case 'create': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { name: one, plan: one, product: many, 'client-id': many, contact: many } });
      if (!positionals[0] || !values.name) usage('partner create <id> --name N [--plan P] [--product X…] [--client-id C…] [--contact E…]');
      const body = { id: positionals[0], name: values.name, products: values.product ?? [], clientIds: values['client-id'] ?? [], contacts: values.contact ?? [], ...(values.plan ? { plan: values.plan } : {}) };
      return report(client().call('POST', '/partners', body), partnerViewSchema, (p) => `partner ${p.id} (${p.status}): products ${p.products.join(', ') || 'none'}, plan ${p.plan ?? 'none'}`);
    }
    case 'list': {
      const { status, body } = await client().call('GET', '/partners');
      if (status >= 300) return refused(status, body);
      for (const p of partnerListSchema.parse(body).partners) {
        const keys = p.keys.map((k) => `${k.id}:${k.state}${k.lastUsedAt ? ` (used ${k.lastUsedAt})` : ''}`).join(' ');
        process.stdout.write(`${p.id.padEnd(16)} ${p.status.padEnd(10)} plan ${String(p.plan ?? '-').padEnd(10)} products ${p.products.join(',') || '-'}  keys ${keys || '-'}\n`);
      }
      return 0;
    }
    case 'suspend':
    case 'reactivate': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { reason: one } });
      if (!positionals[0]) usage(`partner ${verb} <id> [--reason R]`);
      return report(client().call('POST', path('partners', positionals[0]!, verb), values.reason ? { reason: values.reason } : {}), partnerViewSchema, (p) => `partner ${p.id} is ${p.status}`);
    }
    case 'key': {
      const [action, ...more] = rest;
      if (action === 'create') {
        const { values, positionals } = parseArgs({ args: more, allowPositionals: true, options: { scope: many, expires: one } });
        if (!positionals[0]) usage('partner key create <partner> [--scope S…] [--expires ISO-8601]');
        return report(client().call('POST', path('partners', positionals[0]!, 'keys'), { scopes: values.scope ?? [], ...(values.expires ? { expiresAt: values.expires } : {}) }), createdKeySchema, (k) => `${k.key}\n(key ${k.id} of ${k.partner}: shown once, stored only as a hash; keep it now)`);
      }
      if (action === 'rotate') {
        const { values, positionals } = parseArgs({ args: more, allowPositionals: true, options: { overlap: one } });
        if (!positionals[1]) usage('partner key rotate <partner> <key> [--overlap 24h]');
        return report(client().call('POST', path('partners', positionals[0]!, 'keys', positionals[1]!, 'rotate'), values.overlap ? { overlap: values.overlap } : {}), createdKeySchema, (k) => `${k.key}\n(key ${k.id} replaces ${k.replaced}, which works until the overlap ends; shown once)`);
      }
      if (action === 'revoke') {
        const { positionals } = parseArgs({ args: more, allowPositionals: true, options: {} });
        if (!positionals[1]) usage('partner key revoke <partner> <key>');
        return report(client().call('POST', path('partners', positionals[0]!, 'keys', positionals[1]!, 'revoke'), {}), revokedKeySchema, (k) => `key ${k.id} revoked at ${k.revokedAt}`);
      }
      return usage('partner key create|rotate|revoke …');
    }
    case 'hmac-secret':
      return hmacSecretCommand(rest, client, path);
    default:
      return usage('partner create|list|suspend|reactivate|key|hmac-secret …');
  }
}

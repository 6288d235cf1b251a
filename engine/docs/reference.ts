import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { kinds, type AnyKindDescriptor, type PortSpec } from '../../shared/nodes/index.ts';
import { GATEWAY_ERRORS } from '../../shared/schema/index.ts';
import { createAdminApi } from '../admin/api.ts';
import { PERMISSIONS } from '../../shared/admin/index.ts';
import { settingsSchema } from '../config.ts';
import { readCatalogFile } from '../sources/error-catalog.ts';

interface JsonSchemaProperty {
  type?: string | string[];
  description?: string;
  title?: string;
  default?: unknown;
  enum?: unknown[];
  items?: { type?: string; enum?: unknown[] };
  format?: string;
  const?: unknown;
  anyOf?: JsonSchemaProperty[];
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(p: JsonSchemaProperty): string {
  if (p.const !== undefined) return `\`${JSON.stringify(p.const)}\``;
  if (p.anyOf) return p.anyOf.map(typeOf).join(' \\| ');
  if (p.enum) return p.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (p.format === 'jsonata') return 'JSONata';
  if (p.format === 'duration') return 'duration';
  if (p.type === 'array') return p.items?.enum ? `list of ${p.items.enum.map((v) => `\`${String(v)}\``).join(' \\| ')}` : `list of ${p.items?.type ?? 'object'}`;
  return Array.isArray(p.type) ? p.type.join(' \\| ') : (p.type ?? 'any');
}

function portText(port: PortSpec): string {
  if (port.unwired === 'required') return `\`${port.name}\` (must be wired)`;
  if (port.unwired === 'finish') return `\`${port.name}\` (unwired: answers the response)`;
  return `\`${port.name}\` (unwired: \`${port.unwired.error}\`)`;
}

/** The least config each kind accepts, so `ports()` can be listed (switch shows a sample case). */
const SAMPLE_CONFIG: Record<string, unknown> = {
  cors: { origins: ['https://app.example.com'] },
  'validate-request': { body: { type: 'object' } },
  'prompt-guard': { maxInputTokens: 4000 },
  'http-call': { name: 'profile', url: 'https://profiles.example/v1' },
  subflow: { fragment: 'auth', exits: ['ok'] },
  'cache-lookup': { name: 'orders' },
  'cache-store': { name: 'orders' },
  'jwt-verify': { jwksUri: 'https://issuer.example/jwks' },
  'hmac-verify': {},
  introspect: { issuer: 'https://issuer.example', clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_INTROSPECTION' },
  'client-cert': { match: ['fingerprint', 'san', 'subject'] },
  'scope-check': { all: ['scope'] },
  condition: { when: 'true' },
  switch: { cases: [{ port: 'case', when: 'true' }] },
  'mcp-tool': { tools: [{ name: 'tool_name', port: 'tool' }] },
  'rate-limit': { limit: 1 },
  proxy: { url: 'http://upstream.example', llm: { api: 'openai' } }, // llm: its model_denied port is listed too
  error: { error: 'config_error' },
};

function kindSection(descriptor: AnyKindDescriptor): string {
  const schema = z.toJSONSchema(descriptor.config as z.ZodType, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchemaProperty>; required?: string[] };
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(([name, p]) => {
    const def = p.default === undefined ? (required.has(name) ? 'required' : '') : `\`${JSON.stringify(p.default)}\``;
    return `| \`${name}\` | ${typeOf(p)} | ${def} | ${cell(p.description ?? p.title ?? '')} |`;
  });
  const sample = descriptor.config.parse(SAMPLE_CONFIG[descriptor.kind] ?? {});
  const ports = descriptor.terminal
    ? 'none (ends the request)'
    : descriptor.kind === 'subflow'
      ? 'one per exit of its fragment (must be wired)'
      : descriptor.ports(sample).map((p: PortSpec) => (descriptor.kind === 'switch' && p.name === 'case' ? 'one per case (must be wired)' : descriptor.kind === 'mcp-tool' && p.name === 'tool' ? 'one per port its tools name (must be wired)' : portText(p))).join(', ');
  const errors =
    descriptor.errors.length > 0 ? descriptor.errors.map((e) => `\`${e}\``).join(', ') : descriptor.kind === 'error' ? 'the one in `config.error`' : descriptor.kind === 'subflow' ? "its fragment's nodes'" : 'none';
  return [
    `### \`${descriptor.kind}\` — ${descriptor.title}`,
    '',
    `${descriptor.description} *(${descriptor.category})*`,
    '',
    `Ports: ${ports}. Errors: ${errors}.`,
    '',
    '| field | type | default | meaning |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The README's node-kind reference, generated from the descriptors so it cannot drift. */
function kindsReference(): string {
  return (Object.values(kinds) as AnyKindDescriptor[]).map(kindSection).join('\n\n');
}

/** The README's error catalog table, from a catalog file. */
function catalogReference(catalogFile: string): string {
  const catalog = readCatalogFile(catalogFile);
  const raisedBy = new Map<string, string[]>();
  for (const id of GATEWAY_ERRORS) raisedBy.set(id, ['gateway']);
  for (const d of Object.values(kinds) as AnyKindDescriptor[]) for (const id of d.errors) raisedBy.set(id, [...(raisedBy.get(id) ?? []), d.kind]);
  const rows = Object.entries(catalog.errors).map(([id, e]) => `| \`${id}\` | ${e.status} | ${cell(e.title)} | ${(raisedBy.get(id) ?? ['error node']).map((k) => `\`${k}\``).join(', ')} | ${cell(e.detail)} |`);
  return ['| id | status | title | raised by | detail template |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** The README's configuration table, from the settings schema. */
function settingsReference(): string {
  const schema = z.toJSONSchema(settingsSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, JsonSchemaProperty> };
  const rows = Object.entries(schema.properties).map(([name, p]) => `| \`${name}\` | ${p.default === undefined ? '' : `\`${String(p.default)}\``} | ${cell(p.description ?? '')} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The README's admin API table, from the endpoint table that also routes requests and builds the OpenAPI document. */
function adminReference(): string {
  const { endpoints } = createAdminApi({ store: undefined as never, lifecycle: undefined as never, partners: undefined as never, authenticate: async () => ({ name: '', role: 'viewer' }), problems: () => undefined as never, status: () => ({ appliedRevision: 0, serving: [] }) });
  const rows = endpoints.map((e) => `| \`${e.method.toUpperCase()} /admin/api${e.path}\` | ${PERMISSIONS[e.permission].join(', ')} | ${cell(e.summary)} |`);
  return ['| endpoint | roles | what it does |', '|---|---|---|', '| `GET /admin/api/openapi.json` | anyone | this API as an OpenAPI 3.1 document |', ...rows].join('\n');
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
function replaceBlock(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`no ${name} block in the README`);
  return `${text.slice(0, a + start.length)}\n${content}\n${text.slice(b)}`;
}

/** The README with its generated blocks brought up to date. */
export function renderReadme(readme: string, catalogFile: string): string {
  let text = replaceBlock(readme, 'kinds', kindsReference());
  text = replaceBlock(text, 'catalog', catalogReference(catalogFile));
  text = replaceBlock(text, 'settings', settingsReference());
  text = replaceBlock(text, 'admin', adminReference());
  return text;
}

export function updateReadme(readmeFile: string, catalogFile: string): boolean {
  const before = readFileSync(readmeFile, 'utf8');
  const after = renderReadme(before, catalogFile);
  if (after !== before) writeFileSync(readmeFile, after);
  return after !== before;
}

import type { DraftDocument } from './convert.ts';

export interface Template {
  name: string;
  description: string;
  build(base: { id: string; name: string; methods: string[]; path: string }): DraftDocument;
}

/** Starting points for a new workflow; each is an ordinary document the user then edits. */
export const TEMPLATES: Template[] = [
  {
    name: 'Empty canvas',
    description: 'Nothing drawn yet: add nodes from the palette.',
    build: ({ id, name, methods, path }) => ({ id, name, route: { methods: methods as never, path }, nodes: [], edges: [], layout: {} }),
  },
  {
    name: 'JWT-protected proxy',
    description: 'Verify a bearer token, require a scope, call the upstream.',
    build: ({ id, name, methods, path }) => ({
      id,
      name,
      route: { methods: methods as never, path },
      nodes: [
        { id: 'verify', kind: 'jwt-verify', label: 'Verify token', config: { jwksUri: 'https://issuer.example/.well-known/jwks.json', algorithms: ['RS256'] } },
        { id: 'scopes', kind: 'scope-check', label: 'Required scopes', config: { all: [`${id}:read`] } },
        { id: 'call', kind: 'proxy', label: 'Upstream', config: { url: 'http://upstream.internal', timeout: '10s' } },
      ],
      edges: [
        { from: 'verify', port: 'ok', to: 'scopes' },
        { from: 'scopes', port: 'ok', to: 'call' },
      ],
      layout: { verify: { x: 0, y: 0 }, scopes: { x: 300, y: 0 }, call: { x: 600, y: 0 } },
    }),
  },
  {
    name: 'API key, rate limit, proxy',
    description: 'Identify partners by API key, limit each partner, call the upstream.',
    build: ({ id, name, methods, path }) => ({
      id,
      name,
      route: { methods: methods as never, path },
      nodes: [
        { id: 'key', kind: 'api-key', label: 'Partner key', config: { header: 'x-api-key', keys: [] } },
        { id: 'limit', kind: 'rate-limit', label: 'Per partner', config: { limit: 100, window: '1m', key: 'partner' } },
        { id: 'call', kind: 'proxy', label: 'Upstream', config: { url: 'http://upstream.internal' } },
      ],
      edges: [
        { from: 'key', port: 'ok', to: 'limit' },
        { from: 'limit', port: 'ok', to: 'call' },
      ],
      layout: { key: { x: 0, y: 0 }, limit: { x: 300, y: 0 }, call: { x: 600, y: 0 } },
    }),
  },
  {
    name: 'Mock response',
    description: 'Answer with a fixed JSON body, before the upstream exists.',
    build: ({ id, name, methods, path }) => ({
      id,
      name,
      route: { methods: methods as never, path },
      nodes: [{ id: 'mock', kind: 'respond', label: 'Mock', config: { status: 200, body: { ok: true } } }],
      edges: [],
      layout: { mock: { x: 0, y: 0 } },
    }),
  },
];

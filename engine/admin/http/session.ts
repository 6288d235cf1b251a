/** What an editor session starts from: who the token is, and the node kinds it can draw. */
import { identitySchema, kindsPayloadSchema, type KindsPayload } from '../../../shared/admin/index.ts';
import { kindConfigJsonSchema } from '../../../shared/compile/json-schema.ts';
import { CATEGORIES, kinds, type AnyKindDescriptor } from '../../../shared/nodes/index.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

function kindsPayload(): KindsPayload {
  return {
    categories: [...CATEGORIES],
    kinds: (Object.values(kinds) as AnyKindDescriptor[]).map((d) => ({
      kind: d.kind,
      title: d.title,
      category: d.category,
      description: d.description,
      terminal: d.terminal === true,
      errors: [...d.errors],
      configSchema: kindConfigJsonSchema(d.kind as keyof typeof kinds),
    })),
  };
}

export function sessionEndpoints(): Endpoint[] {
  return [
    defineEndpoint({ method: 'get', path: '/whoami', permission: 'read', summary: 'The name and role of the token', response: identitySchema, handler: async ({ actor }) => actor }),
    defineEndpoint({ method: 'get', path: '/kinds', permission: 'read', summary: 'Node kinds with their config JSON Schemas (palette and forms)', response: kindsPayloadSchema, handler: async () => kindsPayload() }),
  ];
}

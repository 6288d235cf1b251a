import { z } from 'zod';

/** The roles of admin tokens. */
export const ROLES = ['viewer', 'editor', 'publisher', 'auditor', 'admin'] as const;
const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/**
 * What a role may do: the API refuses by this table and the editor disables by it.
 * viewer ⊂ editor ⊂ publisher ⊂ admin; auditor reads everything and changes nothing.
 */
export const PERMISSIONS = {
  read: ['viewer', 'editor', 'publisher', 'auditor', 'admin'],
  edit: ['editor', 'publisher', 'admin'],
  publish: ['publisher', 'admin'],
  audit: ['auditor', 'admin'],
  admin: ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function allows(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/** Who a token belongs to (GET /admin/api/whoami). */
export const identitySchema = z.object({
  name: z.string(),
  role: roleSchema,
  via: z.literal('mcp').optional().meta({ description: 'How the caller acts: through the MCP server (absent: the HTTP API, the editor or the CLI). Audit entries record it.' }),
});
export type Identity = z.infer<typeof identitySchema>;

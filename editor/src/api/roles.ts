import type { Role } from './types.ts';

/**
 * What a role may do, mirroring engine/admin/auth.ts's PERMISSIONS so the editor can disable
 * what the API would refuse (the API stays the authority; this only explains up front).
 * Should move to shared/ so both read one table.
 */
const PERMISSIONS = {
  read: ['viewer', 'editor', 'publisher', 'auditor', 'admin'],
  edit: ['editor', 'publisher', 'admin'],
  publish: ['publisher', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/** Why a control is disabled for a role, as the title and aria-description of that control say. */
export function needs(permission: Exclude<Permission, 'read'>, role: Role): string {
  return permission === 'edit' ? `Read-only: the ${role} role cannot change workflows (needs editor, publisher or admin)` : `The ${role} role cannot publish, roll back or deprecate (needs publisher or admin)`;
}

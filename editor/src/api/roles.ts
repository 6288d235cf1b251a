import { allows, PERMISSIONS, type Permission, type Role } from '../../../shared/admin/index.ts';

/**
 * Whether a role may do something, by the API's own permission table, so the editor can disable
 * what the API would refuse (the API stays the authority; this only explains up front).
 */
export const can = allows;

/** The roles that hold a permission, in words: "editor, publisher or admin". */
const holders = (permission: Permission) => {
  const roles = [...PERMISSIONS[permission]];
  const last = roles.pop();
  return roles.length === 0 ? `${last}` : `${roles.join(', ')} or ${last}`;
};

/** Why a control is disabled for a role, as the title and aria-description of that control say. */
export function needs(permission: Extract<Permission, 'edit' | 'publish'>, role: Role): string {
  return permission === 'edit' ? `Read-only: the ${role} role cannot change workflows (needs ${holders('edit')})` : `The ${role} role cannot publish, roll back or deprecate (needs ${holders('publish')})`;
}

/**
 * The roles a token's claims grant: the claim at `path` (a name, or a dot path such as `realm_access.roles` for nested
 * claims), an array of strings or one space-separated string. Anything else grants none.
 */
export function rolesFromClaims(claims: Record<string, unknown>, path: string): string[] {
  // A claim whose own name contains dots (e.g. a namespaced URL) is read as is before the dot path is walked.
  let value: unknown = path in claims ? claims[path] : claims;
  if (!(path in claims)) {
    for (const key of path.split('.')) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
    }
  }
  if (typeof value === 'string') return value.split(/\s+/).filter((role) => role.length > 0);
  if (Array.isArray(value)) return value.filter((role): role is string => typeof role === 'string');
  return [];
}

/** A claim as a display string, or null (name and email are shown and audited, never trusted for access). */
export function stringClaim(claims: Record<string, unknown>, name: string): string | null {
  const value = claims[name];
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 512) : null;
}

import { rolesFromClaims } from './roles-claim';

describe('rolesFromClaims', () => {
  it.each([
    [{ roles: ['onboarding:viewer', 'x'] }, 'roles', ['onboarding:viewer', 'x']],
    [{ roles: 'onboarding:viewer  onboarding:operator' }, 'roles', ['onboarding:viewer', 'onboarding:operator']],
    [{ realm_access: { roles: ['onboarding:operator'] } }, 'realm_access.roles', ['onboarding:operator']],
    [{ 'https://example.com/roles': ['onboarding:viewer'] }, 'https://example.com/roles', ['onboarding:viewer']],
    [{ roles: [1, 'onboarding:viewer', null] }, 'roles', ['onboarding:viewer']],
    [{ roles: { viewer: true } }, 'roles', []],
    [{ realm_access: ['onboarding:operator'] }, 'realm_access.roles', []],
    [{}, 'roles', []],
    [{ groups: ['onboarding:operator'] }, 'roles', []],
  ])('%j at %s -> %j', (claims, path, roles) => {
    expect(rolesFromClaims(claims as Record<string, unknown>, path)).toEqual(roles);
  });
});

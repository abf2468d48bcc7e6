import { loadAppConfig } from './app-config';

/** A complete production environment: the base the config specs vary one variable of. */
export const production = {
  NODE_ENV: 'production',
  CAPA_BASE_URL: 'https://staging-api.capa.fi',
  CAPA_PARTNER_API_KEY: 'secret-capa-key',
  INBOUND_API_KEYS: 'a,b',
  ADMIN_API_KEY: 'admin',
};

/** The boot error's message for this environment; fails the test when the environment is accepted. */
export function bootError(env: Record<string, string>): string {
  let message: string | undefined;
  try {
    loadAppConfig(env);
  } catch (error) {
    message = (error as Error).message;
  }
  if (message === undefined) throw new Error(`expected the boot to fail for ${JSON.stringify(Object.keys(env))}`);
  return message;
}

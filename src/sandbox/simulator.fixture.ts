import { CapaSimulator, type CapaSimulatorOptions } from './capa-simulator';

/** What the simulator's specs share: one simulator per test (started in beforeEach), and a create-user call to it. */
export const API_KEY = 'test-partner-key';
// fetch's TypeError belongs to another realm than Jest's, so network errors are matched by message.
export const NETWORK_ERROR = 'fetch failed';
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// Live bindings: a spec reads the simulator the latest startSimulator made.
export let simulator: CapaSimulator;
export let baseUrl: string;

export async function startSimulator(options: CapaSimulatorOptions = {}): Promise<void> {
  await simulator?.stop();
  simulator = new CapaSimulator({ apiKeys: [API_KEY], ...options });
  baseUrl = await simulator.start();
}

export function createUser(
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal; rawBody?: string } = {},
): Promise<Response> {
  return fetch(`${baseUrl}/api/partner/v1/user`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'partner-api-key': API_KEY, ...init.headers },
    body: init.rawBody ?? JSON.stringify(body),
    signal: init.signal,
  });
}

export async function userIdOf(response: Response): Promise<string> {
  const body = (await response.json()) as { data: { userId: string } };
  return body.data.userId;
}

export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

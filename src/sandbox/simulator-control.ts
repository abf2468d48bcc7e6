import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultConfigError, parseFaultConfig, type FaultConfig } from './simulator-faults';
import { parseJson, readBody, sendJson } from './simulator-http';

export const CONTROL_PREFIX = '/__sim/';
const USERS_PREFIX = '/__sim/users/';
const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

/** The part of the simulator the control API drives. */
export interface ControlTarget {
  stats(): unknown;
  createUserRequestTimes(): number[];
  createUserCallSpans(): unknown;
  overlappingCalls(): unknown;
  userFor(externalUserId: string): unknown;
  setFaults(faults: FaultConfig): void;
  reset(): void;
}

/** Serves `/__sim/*`; returns false when the request is not a control route. */
export async function handleControlRequest(
  target: ControlTarget,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  if (req.method === 'GET' && path === '/__sim/stats') {
    sendJson(res, 200, target.stats());
  } else if (req.method === 'GET' && path === '/__sim/request-times') {
    sendJson(res, 200, target.createUserRequestTimes());
  } else if (req.method === 'GET' && path === '/__sim/call-spans') {
    sendJson(res, 200, { spans: target.createUserCallSpans(), overlapping: target.overlappingCalls() });
  } else if (req.method === 'GET' && path.startsWith(USERS_PREFIX)) {
    getUser(target, path.slice(USERS_PREFIX.length), res);
  } else if (req.method === 'POST' && path === '/__sim/faults') {
    await setFaults(target, req, res);
  } else if (req.method === 'POST' && path === '/__sim/reset') {
    target.reset();
    sendJson(res, 200, { status: 'ok' });
  } else {
    return false;
  }
  return true;
}

function getUser(target: ControlTarget, encodedId: string, res: ServerResponse): void {
  let externalUserId: string;
  try {
    externalUserId = decodeURIComponent(encodedId);
  } catch {
    return sendJson(res, 400, { message: 'externalUserId is not valid percent-encoding' });
  }
  const user = target.userFor(externalUserId);
  if (user === undefined) return sendJson(res, 404, { message: `No simulated user for externalUserId ${externalUserId}` });
  sendJson(res, 200, user);
}

async function setFaults(target: ControlTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, MAX_CONTROL_BODY_BYTES);
  if (body.outcome === 'aborted') return;
  if (body.outcome === 'too-large') return sendJson(res, 413, { message: 'Fault config is too large' });
  const json = parseJson(body.text);
  if (!json.ok) return sendJson(res, 400, { message: 'Fault config is not valid JSON' });
  try {
    target.setFaults(parseFaultConfig(json.value));
  } catch (error) {
    if (error instanceof FaultConfigError) return sendJson(res, 400, { message: error.message });
    throw error;
  }
  sendJson(res, 200, { status: 'ok' });
}

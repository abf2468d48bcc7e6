import { request as httpRequest } from 'node:http';
import { INBOUND_TOKEN, request, type TestResponse } from './test-app';

/** Uploads a file body to POST /v1/imports as the given content type. */
export async function upload(baseUrl: string, body: string, contentType = 'application/x-ndjson', token = INBOUND_TOKEN): Promise<TestResponse> {
  return request(baseUrl, 'POST', '/v1/imports', body, { 'content-type': contentType, authorization: `Bearer ${token}` });
}

export const ndjson = (rows: unknown[]) => rows.map((row) => (typeof row === 'string' ? row : JSON.stringify(row))).join('\n') + '\n';

/** Polls GET /v1/imports/{id} until `done` holds for it (or the time is up; answers the last view). */
export async function waitForImport(baseUrl: string, id: string, done: (view: any) => boolean, timeoutMs = 60_000, pollMs = 100): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let view: any;
  do {
    view = (await request(baseUrl, 'GET', `/v1/imports/${id}`)).body;
    if (done(view)) return view;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  } while (Date.now() < deadline);
  return view;
}

/** Every row error of an import, through all pages. */
export async function allRowErrors(baseUrl: string, id: string, limit = 100): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? `?limit=${limit}` : `?limit=${limit}&cursor=${cursor}`;
    const page = await request(baseUrl, 'GET', `/v1/imports/${id}/errors${query}`);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return items;
}

/**
 * Starts an upload, sends `sent` of the body, then cuts the connection (a client that died mid-upload).
 * Resolves once the socket is closed.
 */
export async function uploadCutOff(baseUrl: string, sent: string): Promise<void> {
  const url = new URL('/v1/imports', baseUrl);
  await new Promise<void>((resolve) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${INBOUND_TOKEN}`, 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(sent, () => setTimeout(() => req.destroy(), 300));
  });
}

/** An upload kept open: the test writes parts of the body when it likes and ends it; `answer` settles with the reply. */
export interface UploadAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface OpenUpload {
  write(text: string | Buffer): Promise<void>;
  end(text?: string | Buffer): Promise<UploadAnswer>;
  answer: Promise<UploadAnswer>;
  /** Resolves once the connection is closed (by either side). */
  closed: Promise<void>;
}

export function openUpload(baseUrl: string, contentType = 'application/x-ndjson', token = INBOUND_TOKEN): OpenUpload {
  const req = httpRequest(new URL('/v1/imports', baseUrl), {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' },
  });
  const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
  const answer = new Promise<UploadAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  return {
    write: (text) => new Promise<void>((resolve) => req.write(text, () => resolve())),
    end: (text) => {
      req.end(text);
      return answer;
    },
    answer,
    closed,
  };
}

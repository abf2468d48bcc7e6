import { AxiosError, AxiosHeaders } from 'axios';
import { serializeError } from './logging';

describe('serializeError', () => {
  it('keeps type, message, code and stack, and nothing an error carries besides', () => {
    const headers = new AxiosHeaders({ 'partner-api-key': 'capa-secret-key', authorization: 'Bearer inbound-secret' });
    const error = new AxiosError('timeout of 5000ms exceeded', 'ECONNABORTED', { headers, url: 'https://capa.example/api' } as never);
    const logged = serializeError(error);
    expect(logged).toEqual({ type: 'AxiosError', message: 'timeout of 5000ms exceeded', code: 'ECONNABORTED', stack: expect.any(String) });
    expect(JSON.stringify(logged)).not.toMatch(/capa-secret-key|inbound-secret/);
  });

  it('handles things thrown that are not errors', () => {
    expect(serializeError('plain text')).toEqual({ message: 'plain text' });
    expect(serializeError(Object.assign(new Error('x'), { code: 42 }))).toMatchObject({ type: 'Error', code: 42 });
  });
});

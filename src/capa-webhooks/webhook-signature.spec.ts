import { createHmac } from 'node:crypto';
import { signCapaPayload, verifyCapaSignature } from './webhook-signature';

const secret = 'whsec-current';
const previous = 'whsec-previous';
const pretty = Buffer.from('{\n  "type": "KYC",\n  "event": "VERIFIED_USER",\n  "externalUserId": "user-1"\n}');
const compact = JSON.stringify(JSON.parse(pretty.toString()));

describe('verifyCapaSignature', () => {
  it.each<[string, Buffer, string | string[] | undefined, string[], 'raw' | 'canonical' | null]>([
    ['raw bytes', pretty, signCapaPayload(pretty, secret), [secret], 'raw'],
    ['JSON.stringify of the parsed body (Capa sample)', pretty, signCapaPayload(compact, secret), [secret], 'canonical'],
    ['upper-case hex', pretty, signCapaPayload(pretty, secret).toUpperCase(), [secret], 'raw'],
    ['surrounding whitespace', pretty, ` ${signCapaPayload(pretty, secret)} `, [secret], 'raw'],
    ['the previous secret during a rotation', pretty, signCapaPayload(pretty, previous), [secret, previous], 'raw'],
    ['a secret no longer configured', pretty, signCapaPayload(pretty, previous), [secret], null],
    ['wrong secret', pretty, signCapaPayload(pretty, 'other'), [secret], null],
    ['missing header', pretty, undefined, [secret], null],
    ['repeated header', pretty, [signCapaPayload(pretty, secret)], [secret], null],
    ['truncated signature', pretty, signCapaPayload(pretty, secret).slice(0, 63), [secret], null],
    ['signature with extra characters', pretty, `${signCapaPayload(pretty, secret)}00`, [secret], null],
    ['not hex', pretty, 'z'.repeat(64), [secret], null],
    ['empty', pretty, '', [secret], null],
    ['base64 instead of hex', pretty, createHmac('sha256', secret).update(pretty).digest('base64'), [secret], null],
    ['no secrets configured', pretty, signCapaPayload(pretty, secret), [], null],
    ['a changed body', Buffer.from(compact.replace('VERIFIED_USER', 'REJECTED_KYC')), signCapaPayload(pretty, secret), [secret], null],
    ['a non-JSON body, raw', Buffer.from('not json'), signCapaPayload('not json', secret), [secret], 'raw'],
    ['a truncated body', pretty.subarray(0, 20), signCapaPayload(pretty, secret), [secret], null],
  ])('%s', (_name, raw, signature, secrets, form) => {
    expect(verifyCapaSignature(raw, signature, secrets)?.form ?? null).toBe(form);
  });

  it('answers the canonical text it verified, for the duplicate key', () => {
    expect(verifyCapaSignature(pretty, signCapaPayload(compact, secret), [secret])).toEqual({ form: 'canonical', canonical: compact });
  });

  it('never parses a body whose raw bytes are signed', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(verifyCapaSignature(pretty, signCapaPayload(pretty, secret), [secret])).toEqual({ form: 'raw' });
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});

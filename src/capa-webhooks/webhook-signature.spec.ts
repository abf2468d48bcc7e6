import { createHmac } from 'node:crypto';
import { signCapaPayload, verifyCapaSignature } from './webhook-signature';

const secret = 'whsec-current';
const previous = 'whsec-previous';
const pretty = Buffer.from('{\n  "type": "KYC",\n  "event": "VERIFIED_USER",\n  "externalUserId": "user-1"\n}');
const compact = JSON.stringify(JSON.parse(pretty.toString()));

describe('verifyCapaSignature', () => {
  it.each<[string, Buffer, string | string[] | undefined, string[], boolean]>([
    ['raw bytes', pretty, signCapaPayload(pretty, secret), [secret], true],
    ['JSON.stringify of the parsed body (Capa sample)', pretty, signCapaPayload(compact, secret), [secret], true],
    ['upper-case hex', pretty, signCapaPayload(pretty, secret).toUpperCase(), [secret], true],
    ['surrounding whitespace', pretty, ` ${signCapaPayload(pretty, secret)} `, [secret], true],
    ['the previous secret during a rotation', pretty, signCapaPayload(pretty, previous), [secret, previous], true],
    ['a secret no longer configured', pretty, signCapaPayload(pretty, previous), [secret], false],
    ['wrong secret', pretty, signCapaPayload(pretty, 'other'), [secret], false],
    ['missing header', pretty, undefined, [secret], false],
    ['repeated header', pretty, [signCapaPayload(pretty, secret)], [secret], false],
    ['truncated signature', pretty, signCapaPayload(pretty, secret).slice(0, 63), [secret], false],
    ['signature with extra characters', pretty, `${signCapaPayload(pretty, secret)}00`, [secret], false],
    ['not hex', pretty, 'z'.repeat(64), [secret], false],
    ['empty', pretty, '', [secret], false],
    ['base64 instead of hex', pretty, createHmac('sha256', secret).update(pretty).digest('base64'), [secret], false],
    ['no secrets configured', pretty, signCapaPayload(pretty, secret), [], false],
    ['a changed body', Buffer.from(compact.replace('VERIFIED_USER', 'REJECTED_KYC')), signCapaPayload(pretty, secret), [secret], false],
    ['a non-JSON body, raw', Buffer.from('not json'), signCapaPayload('not json', secret), [secret], true],
    ['a truncated body', pretty.subarray(0, 20), signCapaPayload(pretty, secret), [secret], false],
  ])('%s', (_name, raw, signature, secrets, valid) => {
    expect(verifyCapaSignature(raw, signature, secrets)).toBe(valid);
  });
});

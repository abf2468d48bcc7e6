import { createHash } from 'node:crypto';
import { capaRequestFor, normaliseSignup, saltedFingerprint } from './signup-request';
import type { SignupRecord } from './signup.types';

describe('normaliseSignup', () => {
  it('defaults method to NONE and absent fields to null', () => {
    expect(normaliseSignup({ externalUserId: 'u1' })).toMatchObject({ externalUserId: 'u1', method: 'NONE', identifier: null, userType: null, alias: null });
  });

  it('gives equal payloads equal fingerprints and different payloads different ones', () => {
    const a = normaliseSignup({ externalUserId: 'u1' }).fingerprint;
    expect(normaliseSignup({ externalUserId: 'u1', method: 'NONE', identifier: null }).fingerprint).toBe(a);
    expect(normaliseSignup({ externalUserId: 'u2' }).fingerprint).not.toBe(a);
    expect(normaliseSignup({ externalUserId: 'u1', alias: 'x' }).fingerprint).not.toBe(a);
    expect(normaliseSignup({ externalUserId: 'u1', userType: 'BUSINESS' }).fingerprint).not.toBe(a);
  });

  it('does not confuse fields whose concatenations match', () => {
    expect(normaliseSignup({ externalUserId: 'ab', alias: 'c' }).fingerprint).not.toBe(normaliseSignup({ externalUserId: 'a', alias: 'bc' }).fingerprint);
  });

  it('lower-cases the email domain but keeps the local part', () => {
    expect(normaliseSignup({ externalUserId: 'u', method: 'EMAIL', identifier: 'Money@Capa.FI' }).identifier).toBe('Money@capa.fi');
  });

  it('normalises a frozen body (one the validation pipe hands out again) once, and others every time', () => {
    const frozen = Object.freeze({ externalUserId: 'u', method: 'EMAIL' as const, identifier: 'A@B.CO' });
    expect(normaliseSignup(frozen)).toBe(normaliseSignup(frozen));
    expect(normaliseSignup(frozen)).toMatchObject({ identifier: 'A@b.co' });
    expect(Object.isFrozen(normaliseSignup(frozen))).toBe(true);
    const open = { externalUserId: 'u' };
    expect(normaliseSignup(open)).not.toBe(normaliseSignup(open));
    expect(normaliseSignup(open)).toEqual(normaliseSignup(open));
  });

  it('keeps phone numbers in E.164', () => {
    expect(normaliseSignup({ externalUserId: 'u', method: 'PHONE_NUMBER', identifier: '+447911123456' }).identifier).toBe('+447911123456');
  });
});

describe('capaRequestFor', () => {
  const base = { externalUserId: 'u', method: 'NONE', identifier: null, userType: null, alias: null } as SignupRecord;

  it('leaves absent optional fields out and keeps identifier null for NONE', () => {
    expect(capaRequestFor(base)).toEqual({ externalUserId: 'u', method: 'NONE', identifier: null });
  });

  it('sends userType and alias when present', () => {
    expect(capaRequestFor({ ...base, userType: 'BUSINESS', alias: 'ACME' })).toEqual({
      externalUserId: 'u',
      method: 'NONE',
      identifier: null,
      userType: 'BUSINESS',
      alias: 'ACME',
    });
  });
});

describe('saltedFingerprint', () => {
  const payload = normaliseSignup({ externalUserId: 'u1', method: 'EMAIL', identifier: 'ana@example.com', alias: 'Ana' }).fingerprint;

  it('is the payload fingerprint itself for a row never erased', () => {
    expect(saltedFingerprint(payload, null)).toBe(payload);
    expect(saltedFingerprint(payload, undefined)).toBe(payload);
  });

  it('is SHA-256 of salt then fingerprint (as the SQL function signup_fingerprint): the same payload matches, another does not', () => {
    const salt = '00112233445566778899aabbccddeeff';
    const salted = saltedFingerprint(payload, salt);
    expect(salted).toBe(createHash('sha256').update(salt + payload).digest('hex'));
    expect(salted).not.toBe(payload);
    const replay = normaliseSignup({ externalUserId: 'u1', method: 'EMAIL', identifier: 'ana@EXAMPLE.com', alias: 'Ana' }).fingerprint;
    expect(saltedFingerprint(replay, salt)).toBe(salted);
    const other = normaliseSignup({ externalUserId: 'u1', method: 'EMAIL', identifier: 'bob@example.com', alias: 'Ana' }).fingerprint;
    expect(saltedFingerprint(other, salt)).not.toBe(salted);
  });

  it('differs from row to row for one payload: a guess must be hashed once per row', () => {
    expect(saltedFingerprint(payload, 'salt-a')).not.toBe(saltedFingerprint(payload, 'salt-b'));
  });
});

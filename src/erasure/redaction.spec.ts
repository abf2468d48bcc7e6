import { ERASED, erasedValuesOf, redactBody, redactJson, redactText, redactValues } from './redaction';

const signup = {
  externalUserId: 'user-8412',
  userId: '9486244c-ff7d-4c22-9984-797179d7deaa',
  method: 'EMAIL',
  identifier: 'money@capa.fi',
  alias: 'Zoë "Z" Nakamoto',
};
const erased = erasedValuesOf(signup);

describe('erasedValuesOf', () => {
  it('lists the identifier and alias as stored, as JSON text and a URL spell them, and keeps the ids', () => {
    expect(erased.values).toEqual(expect.arrayContaining(['money@capa.fi', 'Zoë "Z" Nakamoto', 'Zoë \\"Z\\" Nakamoto', 'money%40capa.fi']));
    expect(erased.keep).toEqual(['user-8412', '9486244c-ff7d-4c22-9984-797179d7deaa']);
  });

  it('adds a phone number without its plus, and leaves out absent values', () => {
    const phone = erasedValuesOf({ ...signup, method: 'PHONE_NUMBER', identifier: '+524401234567', alias: null, userId: null });
    expect(phone.values).toEqual(expect.arrayContaining(['+524401234567', '524401234567']));
    expect(phone.values.some((value) => value.includes('Nakamoto'))).toBe(false);
    expect(phone.keep).toEqual(['user-8412']);
    expect(erasedValuesOf({ ...signup, identifier: null, alias: null }).values).toEqual([]);
  });
});

describe('redactText', () => {
  it.each([
    ['the identifier in any letter case', 'Provided email MONEY@Capa.FI is not valid', `Provided email ${ERASED} is not valid`],
    ['a quoted value it does not know (an earlier payload)', 'identifier "old@example.com" is taken', `identifier "${ERASED}" is taken`],
    ['a single-quoted value, not an apostrophe', "Capa's check: alias 'Old Name' refused", `Capa's check: alias '${ERASED}' refused`],
    ['an unquoted e-mail address it does not know', 'user other.one+x@example.org exists', `user ${ERASED} exists`],
    ['an international phone number in any layout', 'phone +52 440 123 4567 invalid', `phone ${ERASED} invalid`],
    ['the alias as JSON text quotes it', '{"alias":"Zoë \\"Z\\" Nakamoto"}', `{"${ERASED}":"${ERASED}"}`],
  ])('replaces %s', (_what, text, expected) => {
    expect(redactText(text, erased)).toBe(expected);
  });

  it('keeps the externalUserId and userId, quoted or not, and texts without personal data', () => {
    const text = 'externalUserId "user-8412" is already registered with a different payload (userId 9486244c-ff7d-4c22-9984-797179d7deaa)';
    expect(redactText(text, erased)).toBe(text);
    expect(redactText('HTTP 503', erased)).toBe('HTTP 503');
    const emailId = erasedValuesOf({ ...signup, externalUserId: 'partner-id@example.com' });
    expect(redactText('partner-id@example.com and money@capa.fi', emailId)).toBe(`partner-id@example.com and ${ERASED}`);
  });

  it('is idempotent: an erased text erased again is unchanged', () => {
    const once = redactText('email "money@capa.fi" and +524401234567', erased);
    expect(redactText(once, erased)).toBe(once);
  });
});

describe('redactValues', () => {
  it('replaces only the submitted values (a text about other users keeps its quotes)', () => {
    expect(redactValues('detail call failed for "n-1": money@capa.fi', erased)).toBe(`detail call failed for "n-1": ${ERASED}`);
  });
});

describe('redactJson and redactBody', () => {
  it('walks every string of a JSON value, keys included, and keeps other values', () => {
    const payload = { type: 'TRANSACTION', externalUserId: 'user-8412', amount: '10.00', count: 2, sender: { name: 'zoë "z" nakamoto', emails: ['money@capa.fi'] } };
    expect(redactJson(payload, erased)).toEqual({ type: 'TRANSACTION', externalUserId: 'user-8412', amount: '10.00', count: 2, sender: { name: ERASED, emails: [ERASED] } });
    expect(redactJson({ 'money@capa.fi': true }, erased)).toEqual({ [ERASED]: true });
  });

  it('re-serialises a JSON body and redacts a body that is not JSON as text', () => {
    expect(redactBody('{ "type": "KYC", "externalUserId": "user-8412", "email": "money@capa.fi" }', erased)).toBe(
      `{"type":"KYC","externalUserId":"user-8412","email":"${ERASED}"}`,
    );
    expect(redactBody('not json money@capa.fi', erased)).toBe(`not json ${ERASED}`);
    const untouched = '{ "type": "KYC",  "externalUserId": "user-8412" }';
    expect(redactBody(untouched, erased)).toBe(untouched);
  });
});

import { redirectUriProblem } from './verification-link.dto';

describe('redirectUriProblem', () => {
  it.each([
    'https://partner.example/kyc/done?x=1#y',
    'myapp://kyc-done',
    'com.partner.app://callback/path',
    `https://partner.example/${'a'.repeat(3000)}`, // the length is checked by @MaxLength
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['http://partner.example/done', 'http'],
    ['HTTP://partner.example/done', 'http'],
    ['javascript:alert(1)', 'absolute'],
    ['javascript://%0aalert(1)', 'javascript'],
    ['data://text/html;base64,PHNjcmlwdD4=', 'data'],
    ['file:///etc/passwd', 'file'],
    ['vbscript://msgbox', 'vbscript'],
    ['blob://x', 'blob'],
    ['/relative/path', 'absolute'],
    ['partner.example/done', 'absolute'],
    ['https:///no-host', 'host'],
    ['https://partner.example/a b', 'whitespace'],
    ['https://partner.example/\u0000', 'control'],
    ['myapp://done\n', 'whitespace'],
  ])('refuses %p (%s)', (uri, why) => {
    expect(redirectUriProblem(uri)).toContain(why);
  });

  it('refuses a non-string', () => {
    expect(redirectUriProblem(42)).toBe('redirectUri must be a string');
  });
});

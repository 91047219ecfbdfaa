// redactUrl: what status, Events and logs may show of a URL.
import { redactUrl, secretUrlPlaceholder } from '../../src/checks/redact';

describe('redactUrl', () => {
  it.each([
    ['userinfo', 'http://grafana:s3cret@prom.example.com:9090/api', 'http://prom.example.com:9090/api'],
    ['a user name alone', 'https://token@hooks.example.com/x', 'https://hooks.example.com/x'],
    ['an @ inside the password', 'http://u:p@ss@prom:9090/', 'http://prom:9090/'],
    ['token', 'https://hooks.example.com/x?token=abc123', 'https://hooks.example.com/x?token=REDACTED'],
    ['access_token among others', 'http://prom:9090/q?x=1&access_token=abc&y=2', 'http://prom:9090/q?x=1&access_token=REDACTED&y=2'],
    ['api_key', 'http://a.example/?api_key=k1', 'http://a.example/?api_key=REDACTED'],
    ['apikey, any case', 'http://a.example/?ApiKey=k1', 'http://a.example/?ApiKey=REDACTED'],
    ['key', 'http://a.example/?key=k1', 'http://a.example/?key=REDACTED'],
    ['secret and client_secret', 'http://a.example/?secret=1&client_secret=2', 'http://a.example/?secret=REDACTED&client_secret=REDACTED'],
    ['password', 'http://a.example/?password=hunter2', 'http://a.example/?password=REDACTED'],
    ['sig (Azure SAS)', 'https://x.blob.core.windows.net/c?sv=2020&sig=abc%2Fdef', 'https://x.blob.core.windows.net/c?sv=2020&sig=REDACTED'],
    ['X-Amz-Signature', 'https://b.s3.amazonaws.com/o?X-Amz-Date=1&X-Amz-Signature=ff', 'https://b.s3.amazonaws.com/o?X-Amz-Date=1&X-Amz-Signature=REDACTED'],
    ['auth', 'http://a.example/?auth=xyz', 'http://a.example/?auth=REDACTED'],
    ['a percent-encoded key', 'http://a.example/?access%5Ftoken=xyz', 'http://a.example/?access%5Ftoken=REDACTED'],
    ['a token in the fragment', 'https://app.example/cb#access_token=xyz&state=1', 'https://app.example/cb#access_token=REDACTED&state=1'],
    ['harmless query values stay', 'http://prom:9090/prefix?x=1&tenant=a', 'http://prom:9090/prefix?x=1&tenant=a'],
    ['a URL inside a sentence, with its full stop', 'cannot reach http://u:p@prom:9090/?token=t. Check it.', 'cannot reach http://prom:9090/?token=REDACTED. Check it.'],
    ['a URL in parentheses', 'failed (http://u:p@prom:9090)', 'failed (http://prom:9090)'],
    ['every URL of a message', 'http://a:b@one/ then https://c:d@two/?sig=x', 'http://one/ then https://two/?sig=REDACTED'],
    ['a URL quoted in JSON', '{"url":"http://u:p@h/x?token=t"}', '{"url":"http://h/x?token=REDACTED"}'],
    ['text without URLs', 'timed out after 10s', 'timed out after 10s'],
  ])('%s', (_what, text, expected) => {
    expect(redactUrl(text)).toBe(expected);
  });

  it('is idempotent', () => {
    const once = redactUrl('http://u:p@h/x?token=t');
    expect(redactUrl(once)).toBe(once);
  });

  const slack = { url: 'https://hooks.slack.com/services/T000/B000/XXXXSECRET\n', name: 'slack', key: 'url' };

  it.each([
    ['as stored', 'posting to https://hooks.slack.com/services/T000/B000/XXXXSECRET failed'],
    ['as new URL() spells it', 'Failed to parse URL from https://hooks.slack.com/services/T000/B000/XXXXSECRET'],
    ['wherever it appears', 'https://hooks.slack.com/services/T000/B000/XXXXSECRET and again https://hooks.slack.com/services/T000/B000/XXXXSECRET'],
  ])('a URL from a Secret shows only where it came from (%s)', (_what, text) => {
    const out = redactUrl(text, [slack]);
    expect(out).not.toContain('XXXXSECRET');
    expect(out).toContain('<url from secret slack/url>');
  });

  it('a Secret URL that new URL() normalizes is caught in its normalized spelling too', () => {
    const secret = { url: 'HTTPS://Hooks.Example.com/t/ABC', name: 'hook', key: 'u' };
    expect(redactUrl('POST https://hooks.example.com/t/ABC failed', [secret])).toBe(`POST ${secretUrlPlaceholder(secret)} failed`);
  });
});

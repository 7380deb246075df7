import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import {
  AMBIENT_CREDENTIAL_HEADERS,
  inheritsAmbientCredentials,
  withheldHeaders,
} from './cross-site.rules.js';

function requestWith(headers: IncomingHttpHeaders): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.headers = headers;
  return request;
}

describe('inheritsAmbientCredentials', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/vnd.api+json',
    'multipart/mixed; boundary=b',
  ])('lets a batch sent as %s (preflighted cross-site) pass on the credentials', (type) => {
    expect(inheritsAmbientCredentials({ 'content-type': type })).toBe(true);
  });

  it.each([
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded;charset=UTF-8',
    ' APPLICATION/X-WWW-FORM-URLENCODED ',
    'multipart/form-data; boundary=x',
    'text/plain',
    'text/plain;charset=UTF-8',
    '',
    'application/jsonx',
    'text/json',
    'application/octet-stream',
  ])(
    'withholds them from a batch sent as "%s" (no preflight, or not known to need one)',
    (type) => {
      expect(inheritsAmbientCredentials({ 'content-type': type })).toBe(false);
    },
  );

  it('withholds them from a batch request without Content-Type (a no-cors fetch of a Blob)', () => {
    expect(inheritsAmbientCredentials({})).toBe(false);
    expect([...withheldHeaders(requestWith({}))].sort()).toEqual(
      [...AMBIENT_CREDENTIAL_HEADERS].sort(),
    );
    expect(AMBIENT_CREDENTIAL_HEADERS).toEqual(
      expect.arrayContaining([
        'cookie',
        'authorization',
        'proxy-authorization',
        'x-forwarded-user',
      ]),
    );
  });

  it('trusts Sec-Fetch-Site same-origin and none, which no other site can make a browser send', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(inheritsAmbientCredentials({ ...form, 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(inheritsAmbientCredentials({ ...form, 'sec-fetch-site': 'none' })).toBe(true);
    expect(inheritsAmbientCredentials({ ...form, 'sec-fetch-site': 'same-site' })).toBe(false);
    expect(inheritsAmbientCredentials({ ...form, 'sec-fetch-site': 'cross-site' })).toBe(false);
    expect(withheldHeaders(requestWith({ 'content-type': 'application/json' })).size).toBe(0);
  });
});

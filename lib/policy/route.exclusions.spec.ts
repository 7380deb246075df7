import { RequestMethod } from '@nestjs/common';
import { compileExclusions } from './route.exclusions.js';

describe('compileExclusions', () => {
  it('excludes nothing without routes', () => {
    expect(compileExclusions([])('GET', '/admin')).toBe(false);
  });

  it('takes a string as a path for every method, matched as Express matches routes', () => {
    const excluded = compileExclusions(['/admin']);
    for (const method of ['GET', 'POST', 'DELETE']) expect(excluded(method, '/admin')).toBe(true);
    expect(excluded('GET', '/ADMIN')).toBe(true);
    expect(excluded('GET', '/admin/')).toBe(true);
    expect(excluded('GET', '/admin?x=1')).toBe(true);
    expect(excluded('GET', '/admin/users')).toBe(false);
    expect(excluded('GET', '/administrator')).toBe(false);
  });

  it('reads Nest and Express 5 patterns: parameters and a named wildcard', () => {
    const excluded = compileExclusions(['/users/:id', '/admin/*rest']);
    expect(excluded('GET', '/users/7')).toBe(true);
    expect(excluded('GET', '/users/7/posts')).toBe(false);
    expect(excluded('GET', '/admin/a/b/c')).toBe(true);
    expect(excluded('GET', '/admin')).toBe(false);
  });

  it('limits an entry to its methods, by name or RequestMethod; GET covers HEAD; ALL covers all', () => {
    const excluded = compileExclusions([
      { path: '/items/:id', method: 'DELETE' },
      { path: '/reports', method: [RequestMethod.GET] },
      { path: '/any', method: RequestMethod.ALL },
    ]);
    expect(excluded('DELETE', '/items/1')).toBe(true);
    expect(excluded('GET', '/items/1')).toBe(false);
    expect(excluded('GET', '/reports')).toBe(true);
    expect(excluded('HEAD', '/reports')).toBe(true);
    expect(excluded('POST', '/reports')).toBe(false);
    expect(excluded('PATCH', '/any')).toBe(true);
  });

  it('decodes percent-escaped unreserved characters first, so /%61dmin is /admin', () => {
    const excluded = compileExclusions(['/admin']);
    expect(excluded('GET', '/%61dmin')).toBe(true);
    expect(excluded('GET', '/%41DMIN')).toBe(true);
    // A reserved character stays escaped, as the router sees it: a different path.
    expect(compileExclusions(['/admin/*rest'])('GET', '/admin%2Fx')).toBe(false);
  });

  it('under URI versioning, covers every version with a path written without one', () => {
    const versioning = { globalPrefix: '/api', segments: new Set(['v1', 'v2']) };
    const excluded = compileExclusions(['/api/users/:id']);
    expect(excluded('GET', '/api/v1/users/1', versioning)).toBe(true);
    expect(excluded('GET', '/api/v2/users/1', versioning)).toBe(true);
    // Not a version of the app: the path stays whole.
    expect(excluded('GET', '/api/v3/users/1', versioning)).toBe(false);
    expect(excluded('GET', '/api/v1/users/1')).toBe(false);
    // A path with a version covers that version only.
    const one = compileExclusions(['/api/v1/users/:id']);
    expect(one('GET', '/api/v1/users/1', versioning)).toBe(true);
    expect(one('GET', '/api/v2/users/1', versioning)).toBe(false);
  });

  it('refuses, naming the entry, a pattern path-to-regexp cannot read', () => {
    expect(() => compileExclusions(['/ok', '/bad/('])).toThrow(
      /exclude\[1\] "\/bad\/\(" is not a route pattern/,
    );
  });
});

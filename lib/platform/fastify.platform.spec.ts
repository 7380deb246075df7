import { routePath } from './fastify.platform.js';

describe('routePath', () => {
  it.each([
    ['/admin/:id', { id: '1' }, '/admin/1'],
    ['/api/v1/vadmin/:id', { id: 'a b' }, '/api/v1/vadmin/a b'],
    ['/files/*', { '*': 'a/b/c' }, '/files/a/b/c'],
    ['/items/:id(^\\d+)', { id: '42' }, '/items/42'],
    ['/near/:lat-:lng', { lat: '1', lng: '2' }, '/near/1-2'],
    ['/file/:name.:ext', { name: 'a', ext: 'txt' }, '/file/a.txt'],
    ['/time/12::00', {}, '/time/12:00'],
    ['/users/:id?', {}, '/users/'],
    ['/static', undefined, '/static'],
  ])('fills %s with %j: %s', (pattern, params, path) => {
    expect(routePath(pattern, params)).toBe(path);
  });

  it('gives undefined when a param is missing, so the caller falls back to the pattern', () => {
    expect(routePath('/admin/:id', {})).toBeUndefined();
  });
});

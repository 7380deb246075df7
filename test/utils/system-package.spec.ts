import { jest } from '@jest/globals';
import { describeNeeding, itNeeding } from './system-package.js';

describe('a suite that needs a Debian package', () => {
  it('runs when the package is there', () => {
    expect(itNeeding(true, 'apt-get install x', {})).toBe(it);
    expect(describeNeeding(true, 'apt-get install x', { CI: 'true' })).toBe(describe);
  });

  it('is skipped, saying how to install the package, on a machine without it', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(itNeeding(false, 'apt-get install postgresql', {})).toBe(it.skip);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('apt-get install postgresql'));
    } finally {
      warn.mockRestore();
    }
  });

  it('fails in CI, which installs it', () => {
    expect(() => describeNeeding(false, 'apt-get install postgresql', { CI: '1' })).toThrow(
      'missing system package: apt-get install postgresql (CI must install it: see .ci/run)',
    );
  });
});

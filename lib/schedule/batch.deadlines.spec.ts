import { jest } from '@jest/globals';
import { activeTimeouts } from '../../test/utils/run-probes.js';
import { atDeadline } from './batch.deadlines.js';

describe('atDeadline', () => {
  afterEach(() => jest.useRealTimers());

  it('ends each batch at its own deadline on one timer, never a cancelled one, and leaves no timer', () => {
    jest.useFakeTimers();
    const ended: string[] = [];
    atDeadline(100, () => ended.push('a'));
    jest.advanceTimersByTime(40);
    const cancelB = atDeadline(100, () => ended.push('b'));
    jest.advanceTimersByTime(20);
    atDeadline(100, () => ended.push('c'));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(40); // 100: a
    expect(ended).toEqual(['a']);
    cancelB();
    jest.advanceTimersByTime(59); // 159: c not yet
    expect(ended).toEqual(['a']);
    jest.advanceTimersByTime(1); // 160: c
    expect(ended).toEqual(['a', 'c']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps the process alive only while a deadline waits', () => {
    const before = activeTimeouts();
    const cancels = [atDeadline(60_000, () => undefined), atDeadline(60_000, () => undefined)];
    expect(activeTimeouts()).toBe(before + 1);
    for (const cancel of cancels) cancel();
    expect(activeTimeouts()).toBe(before);
  });

  it('ends a batch that came after every other was cancelled at its own deadline', () => {
    jest.useFakeTimers();
    const ended: string[] = [];
    atDeadline(100, () => ended.push('cancelled'))();
    jest.advanceTimersByTime(50);
    atDeadline(100, () => ended.push('later'));
    jest.advanceTimersByTime(50); // 100: the timer of the cancelled one
    expect(ended).toEqual([]);
    jest.advanceTimersByTime(50); // 150
    expect(ended).toEqual(['later']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sets its timer again for a deadline added while one ends', () => {
    jest.useFakeTimers();
    const ended: string[] = [];
    atDeadline(50, () => {
      ended.push('first');
      atDeadline(50, () => ended.push('second'));
    });
    jest.advanceTimersByTime(50);
    expect(ended).toEqual(['first']);
    jest.advanceTimersByTime(50);
    expect(ended).toEqual(['first', 'second']);
    expect(jest.getTimerCount()).toBe(0);
  });
});

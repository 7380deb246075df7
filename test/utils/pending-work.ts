import type { StartWork } from '../../lib/dispatch/operation.task.js';

/** Work that ends when told to; records whether it was abandoned. */
export function pending<T>(): {
  work: StartWork<T>;
  started: () => boolean;
  abandoned: () => boolean;
  finish: (value: T) => void;
} {
  const state = {
    started: false,
    abandoned: false,
    done: undefined as ((v: T) => void) | undefined,
  };
  return {
    work: (done) => {
      state.started = true;
      state.done = done;
      return () => {
        state.abandoned = true;
      };
    },
    started: () => state.started,
    abandoned: () => state.abandoned,
    finish: (value) => state.done?.(value),
  };
}

import type { BatchCookieJar } from '../operation/cookie.jar.js';

/** The batch's cookie jar as one attempt of an atomic group sees it. */
export interface GroupCookies {
  /** The group's copy: members see the cookies the members before them set. */
  readonly jar: BatchCookieJar;
  /** Stores in the batch's jar what the members set: called once the group has committed. */
  commit(): void;
}

/**
 * A rolled-back group leaves nothing behind, cookies included: what its members set stays in a
 * copy of the jar, and reaches the operations after the group only once it commits.
 */
export function groupCookies(batchJar: BatchCookieJar): GroupCookies {
  const jar = batchJar.fork();
  const stored: Parameters<BatchCookieJar['store']>[] = [];
  const storeInCopy = jar.store.bind(jar);
  jar.store = (...args) => {
    storeInCopy(...args);
    stored.push(args);
  };
  return {
    jar,
    commit: () => {
      for (const args of stored) batchJar.store(...args);
      stored.length = 0;
    },
  };
}

import { Observable, Subject } from 'rxjs';

/** How many timers (`setTimeout`) the process holds: to show that one was cleared. */
export function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

/** A run that emits what the test pushes, and says how many are still subscribed to it. */
export function controlledRun<T>(): {
  outcomes: Observable<T>;
  push: Subject<T>;
  subscribed: () => number;
} {
  const push = new Subject<T>();
  let subscribers = 0;
  const outcomes = new Observable<T>((subscriber) => {
    subscribers++;
    const subscription = push.subscribe(subscriber);
    return () => {
      subscribers--;
      subscription.unsubscribe();
    };
  });
  return { outcomes, push, subscribed: () => subscribers };
}

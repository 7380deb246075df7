/** A batch's deadline: `end` until it passes or is cancelled, then undefined. */
interface Deadline {
  readonly at: number;
  end: (() => void) | undefined;
}

/**
 * The deadlines of the batches running with one `timeout`, and one timer for all of them. Added
 * in the order they fall due (each is now + the same `timeout`), so the earliest is always the
 * first still waiting: the timer is set for it alone. A timer per batch cost Node a timer list
 * made and dropped per batch (the only timer of its duration), a tenth of the batch's bounds.
 * The timer keeps the process alive while a deadline waits, as each batch's own did, and only
 * then.
 */
class DeadlineQueue {
  private readonly waiting: Deadline[] = [];
  private head = 0;
  private live = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly timeout: number) {}

  /** Calls `end` once `timeout` ms have passed, unless the function returned cancels it first. */
  add(end: () => void): () => void {
    const deadline: Deadline = { at: Date.now() + this.timeout, end };
    this.waiting.push(deadline);
    this.live++;
    if (this.timer) this.timer.ref();
    else this.timer = setTimeout(this.fire, this.timeout);
    return () => {
      if (deadline.end === undefined) return;
      deadline.end = undefined;
      if (--this.live === 0) this.idle();
    };
  }

  /**
   * Nothing waits: the timer stays, unref'd, for the next batch to take (set again when it fires
   * early), where clearing it made every batch that ran alone set a new one.
   */
  private idle(): void {
    this.timer?.unref();
    this.waiting.length = 0;
    this.head = 0;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    // A timer may fire within a millisecond of its time by the wall clock.
    const now = Date.now() + 1;
    while (this.head < this.waiting.length) {
      const deadline = this.waiting[this.head] as Deadline;
      const { end } = deadline;
      if (end !== undefined && deadline.at > now) break;
      this.head++;
      if (end === undefined) continue;
      deadline.end = undefined;
      this.live--;
      end();
    }
    // An `end` may have added or cancelled deadlines (and set the timer): set it again, for the
    // first deadline still waiting.
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.live === 0) {
      this.waiting.length = 0;
      this.head = 0;
      return;
    }
    while ((this.waiting[this.head] as Deadline).end === undefined) this.head++;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    const next = this.waiting[this.head] as Deadline;
    this.timer = setTimeout(this.fire, Math.max(0, next.at - Date.now()));
  };
}

const queues = new Map<number, DeadlineQueue>();

/**
 * Calls `end` once `timeout` ms (more than 0) have passed, unless the function returned cancels it
 * first: a batch's deadline, on a timer shared by every batch running with that `timeout`.
 */
export function atDeadline(timeout: number, end: () => void): () => void {
  let queue = queues.get(timeout);
  if (!queue) {
    queue = new DeadlineQueue(timeout);
    queues.set(timeout, queue);
  }
  return queue.add(end);
}

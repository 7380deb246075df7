import { Inject, Injectable } from '@nestjs/common';
import { BATCH_OPTIONS } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import type { Abandon, StartWork } from '../dispatch/operation.task.js';

/** The operations of one batch, as they ask the queue for a slot. */
export interface OperationLane {
  /**
   * The work, started once a slot is free and holding it until it is done, fails or is
   * abandoned. Abandoning it while it waits gives up its place.
   */
  run<T>(start: StartWork<T>): StartWork<T>;
  /**
   * As `run`, for work that holds what its slot stands for past being abandoned (an atomic
   * group's transaction, still rolling back): abandoned while running, it keeps the slot until
   * it calls `released`. The slot caps what the app holds, not what the batch still waits for.
   */
  hold<T>(start: HeldWork<T>): HeldWork<T>;
}

/**
 * Work that may still hold something after it was abandoned: it calls `released` once it holds
 * nothing (at the latest when it ends, abandoned or not; calling it more often is harmless).
 * Callers that do not track it (the scheduler) leave `released` out.
 */
export type HeldWork<T> = (
  done: (value: T) => void,
  fail: (error: unknown) => void,
  released?: () => void,
) => Abandon;

/** One operation waiting for (or holding) a slot. */
interface Ticket {
  state: 'waiting' | 'granted' | 'running' | 'done';
  readonly begin: () => void;
}

/** A batch's place in the rotation. */
interface Lane {
  readonly tickets: Ticket[];
  /** In `turns` already (perhaps with no ticket left, then skipped). */
  queued: boolean;
}

/** No cap: the operation itself, with no layer around it (each is paid once per operation). */
const PASS_THROUGH: OperationLane = { run: (start) => start, hold: (start) => start };

/**
 * The cap on operations in flight across every batch of the app (`globalConcurrency`), shared
 * fairly: when a slot frees, it goes to the next batch in turn that has an operation waiting,
 * round-robin, so a batch of 50 takes one slot for each one a batch of 2 takes, not all of them
 * first. Within a batch, operations keep their order. Off (every lane passes straight through)
 * when the cap is 0.
 *
 * Each batch's own `concurrency` still applies first: a batch has at most that many operations
 * here, waiting or running.
 */
@Injectable()
export class OperationQueue {
  private readonly limit: number;
  private inFlight = 0;
  private queuedTickets = 0;
  /** Batches with an operation waiting, in the order they get the next slots. */
  private readonly turns: Lane[] = [];

  constructor(@Inject(BATCH_OPTIONS) options: Pick<ResolvedBatchOptions, 'globalConcurrency'>) {
    this.limit = options.globalConcurrency;
  }

  /** A queue of its own with `limit` slots (0: none): atomic groups take their turns the same way. */
  static withLimit(limit: number): OperationQueue {
    return new OperationQueue({ globalConcurrency: limit });
  }

  /** Operations waiting for a slot, across all batches. */
  get waiting(): number {
    return this.queuedTickets;
  }

  /** A lane for the operations of one batch. */
  lane(): OperationLane {
    if (this.limit === 0) return PASS_THROUGH;
    const lane: Lane = { tickets: [], queued: false };
    return {
      run: (start) => this.runIn(lane, start, false),
      hold: (start) => this.runIn(lane, start, true),
    };
  }

  private runIn<T>(lane: Lane, start: HeldWork<T>, held: boolean): HeldWork<T> {
    return (done, fail, released) => {
      let abandonInner: Abandon | undefined;
      const finish = (): void => {
        if (ticket.state === 'granted' || ticket.state === 'running') this.release();
        ticket.state = 'done';
      };
      // Once per ticket, and passed outwards: a group holds its batch's slot and the app's, and
      // the work inside can only tell the innermost queue.
      const letGo = (): void => {
        if (ticket.state === 'done') return;
        finish();
        released?.();
      };
      const ticket: Ticket = {
        state: 'waiting',
        begin: () => {
          ticket.state = 'running';
          try {
            abandonInner = start(
              (value) => {
                finish();
                done(value);
              },
              (error: unknown) => {
                finish();
                fail(error);
              },
              held ? letGo : undefined,
            );
          } catch (error) {
            finish();
            fail(error);
          }
        },
      };
      if (this.inFlight < this.limit && this.queuedTickets === 0) {
        this.inFlight++;
        ticket.begin();
      } else {
        lane.tickets.push(ticket);
        this.queuedTickets++;
        if (!lane.queued) {
          lane.queued = true;
          this.turns.push(lane);
        }
      }
      let abandoned = false;
      return () => {
        if (ticket.state === 'done' || abandoned) return;
        abandoned = true;
        if (ticket.state === 'waiting') {
          lane.tickets.splice(lane.tickets.indexOf(ticket), 1);
          this.queuedTickets--;
        }
        abandonInner?.();
        // Held work that began keeps its slot until it has let go (it calls `letGo`); work that
        // never began holds nothing, and lets go of the layers around it now.
        if (held && ticket.state === 'running') return;
        if (held) letGo();
        else finish();
      };
    };
  }

  private release(): void {
    this.inFlight--;
    while (this.inFlight < this.limit && this.queuedTickets > 0) {
      const lane = this.turns.shift();
      if (!lane) break;
      const ticket = lane.tickets.shift();
      if (lane.tickets.length > 0) this.turns.push(lane);
      else lane.queued = false;
      if (!ticket) continue;
      this.queuedTickets--;
      this.inFlight++;
      ticket.state = 'granted';
      // On a turn of its own: an operation that completes at once (a 424, a 403) would otherwise
      // release and grant again inside this call, recursing through the whole queue.
      setImmediate(() => {
        if (ticket.state === 'granted') ticket.begin();
      });
    }
  }
}

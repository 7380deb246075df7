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
}

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
const PASS_THROUGH: OperationLane = { run: (start) => start };

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
    return { run: (start) => this.runIn(lane, start) };
  }

  private runIn<T>(lane: Lane, start: StartWork<T>): StartWork<T> {
    return (done, fail) => {
      let abandonInner: Abandon | undefined;
      const finish = (): void => {
        if (ticket.state === 'granted' || ticket.state === 'running') this.release();
        ticket.state = 'done';
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
      return () => {
        if (ticket.state === 'done') return;
        if (ticket.state === 'waiting') {
          lane.tickets.splice(lane.tickets.indexOf(ticket), 1);
          this.queuedTickets--;
        }
        abandonInner?.();
        finish();
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

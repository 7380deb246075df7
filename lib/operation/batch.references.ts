import type { BatchResult } from '../interfaces/batch-operation.interface.js';
import { JsonSizer } from './json.size.js';
import { InvalidRenderedRequestError } from './operation.request.js';
import type { Reference } from '../plan/reference.parser.js';
import { evaluateReference, type QueryBudget } from '../plan/reference.query.js';
import {
  UnmatchedReferenceError,
  type ReferenceLookup,
  type ReferenceMatch,
} from './reference.resolver.js';
import type { RenderLimits } from '../plan/render.limits.js';
import { BatchRenderBudget } from './render.budget.js';

/**
 * The references of one batch: each distinct one (operation name and path, however often it is
 * written) evaluated once, on first use, and its match, sizes included, kept for the rest of
 * the batch. A failed evaluation is kept as well, so a reference over a cap costs once.
 */
export class BatchReferences {
  readonly rendered: BatchRenderBudget;
  private readonly query: QueryBudget;
  private readonly sizer = new JsonSizer();
  private readonly matches = new Map<string, ReferenceMatch | Error>();

  constructor(
    /** Operation index by name. */
    private readonly names: ReadonlyMap<string, number>,
    private readonly results: readonly (BatchResult | undefined)[],
    limits: RenderLimits,
  ) {
    this.rendered = new BatchRenderBudget(limits);
    this.query = {
      maxMatches: limits.maxReferenceMatches,
      maxNodes: limits.maxReferenceNodes,
      nodesLeft: limits.maxReferenceNodes,
    };
  }

  /** Only called once the referenced operation has finished: it is a dependency. */
  readonly lookup: ReferenceLookup = (reference) => {
    const key = keyOf(reference);
    let match = this.matches.get(key);
    if (match === undefined) {
      try {
        match = this.evaluate(reference);
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        match = error;
      }
      this.matches.set(key, match);
    }
    if (match instanceof Error) throw match;
    return match;
  };

  private evaluate(reference: Reference): ReferenceMatch {
    const target = this.names.get(reference.name);
    if (reference.source === 'location') {
      const location = target === undefined ? undefined : this.results[target]?.headers.location;
      const path = typeof location === 'string' ? locationPath(location) : undefined;
      if (path === undefined) throw new UnmatchedReferenceError(reference);
      if (path.includes('?')) {
        throw new InvalidRenderedRequestError(
          `reference ${reference.text}: the Location of "${reference.name}" has a query, so a url cannot extend it as a path (what follows would land in the query)`,
        );
      }
      return new MeasuredMatch([path], true, this.sizer);
    }
    const result = target === undefined ? undefined : this.results[target];
    if (reference.source === 'status') {
      if (result === undefined) throw new UnmatchedReferenceError(reference);
      return new MeasuredMatch([result.code], true, this.sizer);
    }
    if (reference.source === 'header') {
      const value = result?.headers[reference.header ?? ''];
      if (value === undefined) throw new UnmatchedReferenceError(reference);
      // Field lines of one name combine with commas (RFC 9110, 5.3).
      return new MeasuredMatch([Array.isArray(value) ? value.join(', ') : value], true, this.sizer);
    }
    const body = result?.body;
    const values = body === undefined ? [] : evaluateReference(reference, body, this.query);
    if (values.length === 0) throw new UnmatchedReferenceError(reference);
    return new MeasuredMatch(values, reference.singular, this.sizer);
  }
}

/** One key per distinct reference: the canonical path, so `$.a` and `$['a']` are one. */
function keyOf(reference: Reference): string {
  const { name, source, header, query } = reference;
  if (source === undefined) return `${name}:${query.toString()}`;
  return header === undefined ? `${name}:@${source}` : `${name}:@header.${header}`;
}

/**
 * A Location header's path and query, without its leading `/` (the url around the reference
 * writes it): `https://host/rows/7` and `/rows/7` give `rows/7`. The rendered url is checked as
 * any url is; an unusable header matches nothing, one with a query is refused by the caller.
 */
function locationPath(location: string): string | undefined {
  try {
    const url = new URL(location, 'http://location.invalid');
    return `${url.pathname}${url.search}`.replace(/^\/+/, '');
  } catch {
    return undefined;
  }
}

/** A match whose sizes are measured on first need and kept. */
class MeasuredMatch implements ReferenceMatch {
  private readonly body = new KeptSize();
  private readonly text = new KeptSize();

  constructor(
    readonly values: readonly unknown[],
    private readonly singular: boolean,
    private readonly sizer: JsonSizer,
  ) {}

  bodyBytes(limit: number): number {
    return this.body.get(limit, () =>
      this.singular
        ? this.sizer.json(this.values[0], limit)
        : // `[` and `]` around the values, which are written as `textBytes` joins them.
          this.joined(limit - 2, (value, left) => this.sizer.json(value, left)) + 2,
    );
  }

  textBytes(limit: number): number {
    return this.text.get(limit, () =>
      this.joined(limit, (value, left) => this.sizer.text(value, left)),
    );
  }

  /** Bytes of the values joined by commas, stopping once past `limit`. */
  private joined(limit: number, size: (value: unknown, left: number) => number): number {
    let bytes = -1;
    for (const value of this.values) {
      bytes += size(value, limit - bytes - 1) + 1;
      if (bytes > limit) return bytes;
    }
    return bytes;
  }
}

/**
 * A size measured against some limit: exact when it came out within it, else only known to be
 * above it, so a later question with a higher limit measures again.
 */
class KeptSize {
  private bytes = -1;
  private limit = -1;

  get(limit: number, measure: () => number): number {
    const exact = this.bytes >= 0 && this.bytes <= this.limit;
    if (exact || (this.bytes >= 0 && limit <= this.limit)) return this.bytes;
    this.bytes = measure();
    this.limit = limit;
    return this.bytes;
  }
}

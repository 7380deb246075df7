import type { JSONPathQuery } from 'json-p3';

/** `{result=NAME:JSONPATH}`: the value(s) at JSONPATH in the response body of operation NAME. */
export interface Reference {
  /** The referenced operation's name. */
  readonly name: string;
  /** The reference as written, for messages. */
  readonly text: string;
  readonly query: JSONPathQuery;
  /** True when the path can match at most one value (RFC 9535 singular query). */
  readonly singular: boolean;
  /**
   * Where the value comes from when not the body: `'status'` for `{result=NAME:@status}` (the
   * status code), `'header'` for `{result=NAME:@header.NAME}` (a response header's value, e.g.
   * an ETag for `If-Match`), and `'location'` for `{result=NAME:@location}`: the path of the `Location` header of NAME's
   * response (the entity it created), inserted into a url as a path, not encoded. OData's `$1`
   * in a change set maps onto it.
   */
  readonly source?: 'location' | 'status' | 'header';
  /** For `{result=NAME:@header.NAME}`: the response header's name, lower case. */
  readonly header?: string;
}

/**
 * Where compiling collects references. An array is one; the planner's also counts them against
 * the batch's cap, `left` being how many more may come.
 */
export interface ReferenceSink {
  readonly left?: number;
  /** Longest JSONPath a reference may have (`maxReferencePathLength`). */
  readonly maxPathLength?: number;
  push(...references: Reference[]): unknown;
}

/** A string cut into literal text and references. */
export type Template = readonly (string | Reference)[];

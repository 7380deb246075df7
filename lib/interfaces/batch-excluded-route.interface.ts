import type { RequestMethod } from '@nestjs/common';
import type { BatchMethod } from './batch-operation.interface.js';

/**
 * A route operations may not reach. `path` is a pattern in the syntax of Nest and Express 5 routes
 * (`/admin/*rest`, `/users/:id`), matched against the operation's whole path (global prefix
 * included), case-insensitively and with or without a trailing slash, as Express routes match.
 * Under URI versioning, a path without the version segment (`/api/users/:id`) covers the route
 * in every version (`/api/v1/users/:id`); a path with one covers that version only. An exclusion
 * of `GET` also covers `HEAD`, which both adapters answer with the GET handler.
 * A string is a path for every method.
 * @publicApi
 */
export type BatchExcludedRoute =
  | string
  | {
      path: string;
      /** Methods it applies to; default every method. */
      method?: BatchMethod | RequestMethod | readonly (BatchMethod | RequestMethod)[];
    };

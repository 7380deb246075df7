import {
  BATCH_FORMATS,
  BATCH_METHODS,
  DECODED_CONTENT_ENCODINGS,
  NDJSON_MEDIA_TYPE,
  OPERATION_NAME_PATTERN,
  type BatchFormat,
} from '../batch.constants.js';
import type { BatchRefusalReason } from '../batch.exceptions.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import type { BatchOperation } from '../interfaces/batch-operation.interface.js';
import { BODY_ENCODINGS } from '../validation/body-encoding.rules.js';

/**
 * A piece of an OpenAPI 3.0 document, as plain JSON. Typed locally: @nestjs/swagger is an
 * optional peer, and none of its types may reach the library's declarations.
 */
export type OpenApiObject = { readonly [key: string]: unknown };

/** What the endpoint's operation says in the document: given to @nestjs/swagger's decorators. */
export interface BatchOpenApiDescription {
  readonly summary: string;
  readonly description: string;
  /** The request body, one media type per accepted format. */
  readonly requestBody: OpenApiObject;
  /** By status code: the 200 reply and the library's refusals. */
  readonly responses: Readonly<Record<number, OpenApiObject>>;
}

/** The status of every batch-level refusal, by reason; `satisfies` keeps it complete. */
const REFUSAL_STATUS = {
  'invalid-batch': 400,
  'atomic-groups-unavailable': 400,
  'nested-batch': 403,
  'cross-site': 403,
  'too-many-operations': 413,
  'body-too-large': 413,
  'unsupported-format': 415,
} as const satisfies Record<BatchRefusalReason, number>;

const REFUSAL_TEXT: Readonly<Record<number, string>> = {
  400: 'The batch cannot run (a bad envelope or operation, a dependency cycle, an unknown name); nothing of it ran. `message` lists every problem, by operation index.',
  403: 'Refused as a whole: a batch sent as an operation of a batch, or a cross-site batch in a format a browser sends without a CORS preflight.',
  413: 'More operations than the `limit` option, or a body larger than `maxBodyBytes`; nothing ran.',
  415: 'No format the endpoint accepts (Content-Type, charset, Content-Encoding, or a format left out of `formats`).',
};

const STRING: OpenApiObject = { type: 'string' };
const STRINGS: OpenApiObject = { type: 'array', items: STRING };

/** The library's error body (BatchErrorBody), narrowed to the reasons of one status. */
function errorBody(reasons: readonly string[]): OpenApiObject {
  return {
    type: 'object',
    required: ['statusCode', 'error', 'message', 'reason'],
    properties: {
      statusCode: { type: 'integer' },
      error: STRING,
      message: { oneOf: [STRING, STRINGS] },
      reason: { type: 'string', enum: [...reasons] },
    },
  };
}

const REFERENCE_NOTE =
  ' May hold references `{result=NAME:JSONPATH}` to the response body of the operation named NAME.';

/** The native format's operation; the field list is held to the DTO's by test/operation-fields.spec.ts. */
export function nativeOperation(): OpenApiObject {
  return {
    type: 'object',
    required: ['method', 'url'],
    properties: {
      method: { type: 'string', enum: [...BATCH_METHODS] },
      url: {
        type: 'string',
        description: `Path and query inside this app, starting with \`/\`, global prefix included.${REFERENCE_NOTE}`,
      },
      headers: {
        type: 'object',
        additionalProperties: STRING,
        description: `Request headers; values may hold references.`,
      },
      body: {
        description: `Any JSON value, sent as JSON; a string is sent as it is.${REFERENCE_NOTE}`,
      },
      bodyEncoding: {
        type: 'string',
        enum: [...BODY_ENCODINGS],
        description: 'With a base64 string `body`: send its bytes.',
      },
      name: {
        type: 'string',
        pattern: OPERATION_NAME_PATTERN.source,
        description: 'Unique in the batch; what `dependsOn` and references name.',
      },
      dependsOn: {
        ...STRINGS,
        description: 'Operations that must answer 2xx before this one runs; else its entry is 424.',
      },
      omitResponseOnSuccess: { type: 'boolean', description: 'Entry `null` when it succeeded.' },
      atomicityGroup: {
        type: 'string',
        pattern: OPERATION_NAME_PATTERN.source,
        description:
          'The operations sharing it run in request order in one transaction (the `transaction` option) and stand or fall together; `dependsOn` may name it.',
      },
    },
  };
}

function nativeResult(): OpenApiObject {
  return {
    type: 'object',
    required: ['method', 'url', 'code', 'headers'],
    properties: {
      method: STRING,
      url: { type: 'string', description: 'The url it ran with, references substituted.' },
      code: { type: 'integer' },
      headers: {
        type: 'object',
        additionalProperties: { oneOf: [STRING, STRINGS] },
        description: 'Names lower case; `set-cookie` is an array.',
      },
      body: {
        description:
          'Parsed JSON for a JSON response, text for a textual one, else base64 (see bodyEncoding). An entry the library wrote itself (424, 400, 403, 500, 502, 504) has the error body, with a `reason`.',
      },
      bodyEncoding: { type: 'string', enum: ['base64'] },
      decodedContentEncoding: { type: 'string', enum: [...DECODED_CONTENT_ENCODINGS] },
    },
  };
}

/** The JSON request of each JSON format, told apart by its one distinctive key. */
function jsonRequest(format: BatchFormat, limit: number): OpenApiObject | undefined {
  switch (format) {
    case 'native':
      return {
        title: 'Native batch',
        type: 'object',
        required: ['data'],
        properties: {
          data: { type: 'array', minItems: 1, maxItems: limit, items: nativeOperation() },
        },
      };
    case 'graph':
      return {
        title: 'Microsoft Graph JSON batch',
        type: 'object',
        required: ['requests'],
        properties: {
          requests: {
            type: 'array',
            maxItems: limit,
            items: {
              type: 'object',
              required: ['id', 'method', 'url'],
              properties: {
                id: STRING,
                method: STRING,
                url: STRING,
                headers: { type: 'object', additionalProperties: STRING },
                body: {},
                dependsOn: STRINGS,
              },
            },
          },
        },
      };
    case 'facebook':
      return {
        title: 'Facebook Graph batch',
        type: 'object',
        required: ['batch'],
        properties: {
          batch: { type: 'array', maxItems: limit, items: facebookOperation() },
          include_headers: { type: 'boolean' },
        },
      };
    default:
      return undefined;
  }
}

function facebookOperation(): OpenApiObject {
  return {
    type: 'object',
    required: ['method', 'relative_url'],
    properties: {
      method: STRING,
      relative_url: { type: 'string', description: 'Without the leading slash.' },
      name: STRING,
      body: { type: 'string', description: 'Form-encoded.' },
      headers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'value'],
          properties: { name: STRING, value: STRING },
        },
      },
      depends_on: STRING,
      omit_response_on_success: { type: 'boolean' },
    },
  };
}

/** The JSON reply of each JSON format. */
function jsonReply(format: BatchFormat): OpenApiObject | undefined {
  switch (format) {
    case 'native':
      return {
        title: 'Native reply',
        type: 'object',
        required: ['data'],
        properties: {
          data: {
            type: 'array',
            description:
              'In request order; `null` for an operation unfinished at the batch timeout or omitted on success.',
            items: { ...nativeResult(), nullable: true },
          },
        },
      };
    case 'graph':
      return {
        title: 'Microsoft Graph reply',
        type: 'object',
        required: ['responses'],
        properties: {
          responses: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'status'],
              properties: {
                id: STRING,
                status: { type: 'integer' },
                headers: { type: 'object', additionalProperties: STRING },
                body: {},
              },
            },
          },
        },
      };
    case 'facebook':
      return {
        title: 'Facebook Graph reply',
        type: 'array',
        items: {
          type: 'object',
          nullable: true,
          required: ['code'],
          properties: {
            code: { type: 'integer' },
            headers: {
              type: 'array',
              items: { type: 'object', properties: { name: STRING, value: STRING } },
            },
            body: { type: 'string', description: 'The response body, as text.' },
          },
        },
      };
    default:
      return undefined;
  }
}

/** One schema, or `oneOf` several; the first is the one a UI shows first. */
function oneOf(schemas: readonly OpenApiObject[]): OpenApiObject {
  return schemas.length === 1 ? (schemas[0] as OpenApiObject) : { oneOf: [...schemas] };
}

const present = <T>(value: T | undefined): value is T => value !== undefined;

const MULTIPART_REQUEST: OpenApiObject = {
  type: 'string',
  format: 'binary',
  description:
    'One `application/http` part per operation, each a whole HTTP request (Google, OData multipart, Flask-Batch).',
};

/**
 * The endpoint's operation, as it runs with these options: only the formats it accepts, the
 * `limit` as `maxItems`, and the example batch (`openApi.example`) so that "Try it out" sends a
 * batch that runs.
 */
export function describeBatchEndpoint(
  options: ResolvedBatchOptions,
  example?: readonly BatchOperation[],
): BatchOpenApiDescription {
  const formats = new Set(options.formats);
  // In BATCH_FORMATS' order, native first, whatever the order of the option.
  const accepted = BATCH_FORMATS.filter((format) => formats.has(format));
  const json = accepted.map((format) => jsonRequest(format, options.limit)).filter(present);
  const content: Record<string, OpenApiObject> = {};
  if (json.length > 0) {
    content['application/json'] = {
      schema: oneOf(json),
      // The example is a native batch: with the native format off, it would be refused.
      ...(formats.has('native') && example ? { example: { data: example } } : {}),
    };
  }
  if (formats.has('facebook')) {
    content['application/x-www-form-urlencoded'] = {
      schema: {
        type: 'object',
        required: ['batch'],
        properties: {
          batch: { type: 'string', description: 'The JSON array of Facebook operations.' },
          include_headers: { type: 'string', enum: ['true', 'false'] },
        },
      },
    };
  }
  if (formats.has('multipart')) content['multipart/mixed'] = { schema: MULTIPART_REQUEST };

  const replies = accepted.map(jsonReply).filter(present);
  const ok: Record<string, OpenApiObject> = {};
  if (replies.length > 0) ok['application/json'] = { schema: oneOf(replies) };
  if (formats.has('native')) {
    const result = nativeResult();
    ok[NDJSON_MEDIA_TYPE] = {
      schema: {
        description:
          'With `Accept: application/x-ndjson` (native format): one JSON line per operation as it finishes, its entry with its `index`; `{"index": i, "entry": null}` for one unfinished at the timeout or omitted.',
        oneOf: [
          {
            ...result,
            required: ['index', ...(result.required as string[])],
            properties: { index: { type: 'integer' }, ...(result.properties as object) },
          },
          {
            type: 'object',
            required: ['index', 'entry'],
            properties: { index: { type: 'integer' }, entry: { description: 'Always `null`.' } },
          },
        ],
      },
    };
  }
  if (formats.has('multipart')) {
    ok['multipart/mixed'] = {
      schema: { type: 'string', format: 'binary', description: 'One part per operation.' },
    };
  }

  const byStatus = new Map<number, BatchRefusalReason[]>();
  for (const [reason, status] of Object.entries(REFUSAL_STATUS) as [BatchRefusalReason, number][]) {
    byStatus.set(status, [...(byStatus.get(status) ?? []), reason]);
  }
  const responses: Record<number, OpenApiObject> = {
    200: {
      description:
        'The batch ran: one entry per operation, each with the status the app (or the library, with a `reason`) answered. A failed operation does not fail the batch.',
      content: ok,
    },
  };
  for (const [status, reasons] of byStatus) {
    responses[status] = {
      description: REFUSAL_TEXT[status] ?? '',
      content: { 'application/json': { schema: errorBody(reasons) } },
    };
  }
  return {
    summary: 'Run a batch of HTTP requests',
    description:
      'Each operation runs through the app\'s own HTTP pipeline (middleware, guards, pipes, interceptors), in parallel unless it depends on another. Formats: the native `{"data": [...]}` (below), Microsoft Graph `{"requests": [...]}`, Facebook `{"batch": [...]}` (JSON or a form field) and multipart/mixed, as the `formats` option allows.',
    requestBody: { required: true, content },
    responses,
  };
}

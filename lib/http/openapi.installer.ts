import { Logger, type Type } from '@nestjs/common';
import type { ResolvedBatchOptions } from '../batch.options.js';
import { describeBatchEndpoint } from './batch.openapi.js';

/**
 * The two decorators of @nestjs/swagger the description needs, typed locally: the package is an
 * optional peer, and its types must not reach the library's declarations. Both have had these
 * signatures since @nestjs/swagger 4 (Nest 11's 11.x and Nest 12's 12.x alike).
 */
interface SwaggerDecorators {
  ApiOperation(options: object): MethodDecorator;
  ApiResponse(options: object): MethodDecorator;
}

const SWAGGER = '@nestjs/swagger';

/**
 * Describes the batch endpoint for @nestjs/swagger, if the app has it: applies its decorators to
 * the controller class, the way `@ApiOperation()` on a handler would. Run from a provider
 * factory, so it is done while Nest creates the app, before `SwaggerModule.createDocument()`
 * reads the metadata (a lifecycle hook would be too late: apps build the document before
 * `listen()`, hence before `onModuleInit`).
 *
 * Loaded with a dynamic `import()`, not a static one: an app without the package must boot as
 * before, and a static import would fail to resolve. Resolves `true` when it described it.
 */
export async function describeForOpenApi(
  controller: Type<unknown>,
  options: ResolvedBatchOptions,
): Promise<boolean> {
  if (options.openApi === false) return false;
  const swagger = await loadSwagger();
  if (swagger === undefined) return false;
  const { summary, description, requestBody, responses } = describeBatchEndpoint(
    options,
    options.openApi.example,
  );
  const target = controller.prototype as object;
  const descriptor = Object.getOwnPropertyDescriptor(target, 'handle');
  if (descriptor === undefined) return false;
  // The request body goes through ApiOperation rather than ApiBody: ApiBody gives every media
  // type the same schema, and each format has its own.
  swagger.ApiOperation({ summary, description, requestBody })(target, 'handle', descriptor);
  for (const [status, response] of Object.entries(responses)) {
    swagger.ApiResponse({ status: Number(status), ...response })(target, 'handle', descriptor);
  }
  return true;
}

async function loadSwagger(): Promise<SwaggerDecorators | undefined> {
  try {
    return (await import(SWAGGER)) as SwaggerDecorators;
  } catch (error) {
    // Absent is the ordinary case. Present but unloadable is the app's problem to see, not a
    // reason to stop it booting: the endpoint works undocumented.
    if (!isNotFound(error, SWAGGER)) {
      new Logger('BatchModule').warn(
        `${SWAGGER} could not be loaded, so the batch endpoint is not described: ${String(error)}`,
      );
    }
    return undefined;
  }
}

/** Node's ESM (ERR_MODULE_NOT_FOUND) and CommonJS (MODULE_NOT_FOUND) "cannot find" for `name`. */
function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  );
}

import secureJson from 'secure-json-parse';
import { InvalidBatchException } from '../batch.exceptions.js';

/** Prototype-polluting keys fail the parse instead of being dropped, so nothing is lost silently. */
const SECURE = { protoAction: 'error', constructorAction: 'error' } as const;

/** Parses a batch's JSON, refusing prototype-polluting keys anywhere in it. @throws InvalidBatchException */
export function parseBatchJson(text: string): unknown {
  return guard(() => secureJson.parse(text, null, SECURE) as unknown);
}

/**
 * Checks a value the app's own body parser made (when the library could not read the body
 * first) by the same rule. @throws InvalidBatchException
 */
export function scanBatchJson(value: unknown): void {
  if (typeof value === 'object' && value !== null) {
    guard((): void => {
      secureJson.scan(value, SECURE);
    });
  }
}

/** secure-json-parse's SyntaxErrors as a 400 that says what was wrong. */
function guard<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    if (/forbidden (prototype|constructor)/.test(error.message)) {
      throw new InvalidBatchException([
        'the batch holds a "__proto__" key or a "constructor" key with a "prototype" inside; such keys are refused anywhere in a batch',
      ]);
    }
    throw new InvalidBatchException([`the batch body is not valid JSON: ${error.message}`]);
  }
}

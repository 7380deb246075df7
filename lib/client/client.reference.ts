import { OPERATION_NAME_PATTERN } from '../batch.constants.js';

/**
 * A reference to another operation's result, for urls, header values and body strings:
 * `ref('create', '$.id')` is `{result=create:$.id}`. The referring operation runs after `name`.
 * @throws TypeError for a name the server would refuse or a path not starting with `$`
 * @publicApi
 */
export function ref(name: string, path = '$'): string {
  if (!OPERATION_NAME_PATTERN.test(name)) {
    throw new TypeError(`ref: "${name}" is not an operation name (1-128 of A-Z a-z 0-9 _ . ~ -)`);
  }
  if (!path.startsWith('$')) throw new TypeError(`ref: the path "${path}" must start with "$"`);
  return `{result=${name}:${path}}`;
}

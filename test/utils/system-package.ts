/**
 * A suite that needs a Debian package: skipped with a message saying how to install it when it is
 * absent on a developer's machine, so the README's `npm test` passes on a fresh one; a failure
 * when `CI` is set, because .ci/run installs it and a skip there would hide a broken suite.
 */
export function itNeeding(
  available: boolean,
  install: string,
  env: NodeJS.ProcessEnv = process.env,
): jest.It {
  return needing(available, install, env, it, it.skip);
}

/** As {@link itNeeding}, for a whole `describe` block. */
export function describeNeeding(
  available: boolean,
  install: string,
  env: NodeJS.ProcessEnv = process.env,
): jest.Describe {
  return needing(available, install, env, describe, describe.skip);
}

function needing<T>(
  available: boolean,
  install: string,
  env: NodeJS.ProcessEnv,
  run: T,
  skip: T,
): T {
  if (available) return run;
  const message = `missing system package: ${install}`;
  if (env.CI) throw new Error(`${message} (CI must install it: see .ci/run)`);
  console.warn(`${message}; these tests are skipped`);
  return skip;
}

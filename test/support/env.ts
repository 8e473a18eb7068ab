import { reloadConfig } from "../../core/config.js";

/**
 * Runs `fn` with these environment variables set (`undefined` unsets one) and the configuration read again, then
 * puts the environment back and reads it again: the service reads its settings once (core/config.ts), so a test
 * that changes them says so here.
 */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T> | T): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  setEnv(vars);
  try {
    return await fn();
  } finally {
    setEnv(saved);
  }
}

/** Sets (or unsets, for `undefined`) these variables and reads the configuration again. */
export function setEnv(vars: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  reloadConfig();
}

import fc from "fast-check";
import { expect } from "vitest";

/**
 * Every property run uses one seed per test file: `FC_SEED=<n>` when given (to replay a failure), else a fresh
 * random one, in CI as well, so each CI run explores new inputs instead of re-checking the same ones. The seed is
 * printed once per file, when its first property runs, so a red CI log always says how to replay it; fast-check's
 * own failure report adds the seed and the path of the shrunk counterexample.
 */
function chosenSeed(): number {
  const given = process.env.FC_SEED;
  if (given !== undefined && given !== "") {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${given}`);
    return seed | 0;
  }
  return (Math.random() * 0x1_0000_0000) | 0;
}

export const fcSeed = chosenSeed();
fc.configureGlobal({ seed: fcSeed });

let printed = false;
fc.installGlobalPlugin(
  fc.beforeEach(() => {
    if (printed) return;
    printed = true;
    const file = expect.getState().testPath?.replace(`${process.cwd()}/`, "") ?? "<file>";
    console.log(
      `fast-check seed ${fcSeed}${process.env.FC_SEED ? " (from FC_SEED)" : ""}; replay: FC_SEED=${fcSeed} npx vitest run ${file}`,
    );
  }),
);

import fc from "fast-check";

/**
 * Property runs use a random seed locally (each run explores new inputs; a failure prints its seed) and a fixed
 * one in CI (`CI=true`), so CI is reproducible. `FC_SEED=<n>` replays a given seed anywhere.
 */
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : process.env.CI ? 20261124 : undefined;
if (seed !== undefined) fc.configureGlobal({ seed });

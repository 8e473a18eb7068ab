import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { ulid } from "ulid";
import { describe, expect, inject, it } from "vitest";
import { startLocalRuntime } from "../../local/runtime.js";

// The local runtime listens on 127.0.0.1:3000 unless PORT / HOST say otherwise (contract "Local runtime").
// Port 3000 is held by the test itself (or already by someone else), so the defaults show as the address a
// start-up tries and fails on: no server is left running and nothing depends on 3000 being free.

const DEFAULT_PORT = 3000;
const DEFAULT_HOST = "127.0.0.1";

/** Holds 127.0.0.1:3000 for the test, or nothing when another process already listens there (taken either way). */
function holdDefaultPort(): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      error.code === "EADDRINUSE" ? resolve(undefined) : reject(error),
    );
    server.listen(DEFAULT_PORT, DEFAULT_HOST, () => resolve(server));
  });
}

const release = (server: Server | undefined) =>
  new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

describe("PORT / HOST defaults of the local runtime", () => {
  it("startLocalRuntime() without port or host listens on 127.0.0.1:3000", async () => {
    const held = await holdDefaultPort();
    try {
      const error = await startLocalRuntime({
        dynamoEndpoint: inject("dynamoEndpoint"),
        tableName: `defaults-${ulid().toLowerCase()}`,
      }).then(
        async (runtime) => {
          await runtime.stop();
          return undefined;
        },
        (e: NodeJS.ErrnoException & { port?: number; address?: string }) => e,
      );
      expect(
        error,
        "the runtime started although 127.0.0.1:3000 is taken: it does not listen there by default",
      ).toBeDefined();
      expect(error).toMatchObject({ code: "EADDRINUSE", port: DEFAULT_PORT, address: DEFAULT_HOST });
    } finally {
      await release(held);
    }
  });

  it("`npm run dev` (local/main.ts) with PORT and HOST unset uses 127.0.0.1:3000", async () => {
    const held = await holdDefaultPort();
    try {
      const env: Record<string, string | undefined> = { ...process.env, POWERTOOLS_LOG_LEVEL: "WARN" };
      delete env.PORT;
      delete env.HOST;
      const child = spawn("npx", ["tsx", "local/main.ts"], {
        cwd: process.cwd(),
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
      const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
      clearTimeout(timer);
      // It refuses the taken default port (a runtime that ignored the defaults would have started instead).
      expect(code, output).not.toBe(0);
      expect(output).toContain(`port ${DEFAULT_PORT} on ${DEFAULT_HOST}`);
      expect(output).not.toMatch(/ready in \d+ ms/);
    } finally {
      await release(held);
    }
  });
});

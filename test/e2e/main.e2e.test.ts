import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";

// `npm run dev` (local/main.ts) as a user runs it: a child process in its own process group, as a terminal's job.

interface Run {
  output: () => string;
  /** Resolves once every process writing to its output has gone (npm may exit before the runtime has stopped). */
  closed: Promise<{ code: number | null }>;
  pid: number;
}

function startMain(env: Record<string, string>): Run {
  // Through npm, as `npm run dev` runs it: npm forwards a signal to tsx, whose parent process relays it to the child
  // running main.ts, so one Ctrl-C to the group reaches main.ts more than once.
  const child = spawn("npx", ["tsx", "local/main.ts"], {
    cwd: process.cwd(),
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: "WARN", ...env },
    detached: true, // its own process group, so a signal can go to the whole group as Ctrl-C does
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<{ code: number | null }>((resolve) => child.on("close", (code) => resolve({ code })));
  return { output: () => output, closed, pid: child.pid! };
}

async function until(run: Run, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function hold(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe("npm run dev (local/main.ts)", () => {
  it("says what to do when PORT is taken, before starting DynamoDB Local, and exits non-zero without a stack", async () => {
    const { server, port } = await hold();
    try {
      const started = Date.now();
      const run = startMain({ PORT: String(port), HOST: "127.0.0.1" });
      const { code } = await run.closed;
      const output = run.output();
      expect(code, output).not.toBe(0);
      expect(output).toContain(`port ${port}`);
      expect(output).toMatch(/PORT=\d+/);
      expect(output).not.toMatch(/\n\s+at /); // no stack trace
      expect(output).not.toContain("DynamoDB Local");
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      server.close();
    }
  });

  it("stops gracefully, once, on a SIGINT to its whole process group (Ctrl-C)", async () => {
    const run = startMain({ PORT: "0" });
    try {
      await until(run, /\[orderline\] ready in \d+ ms/, 90_000);
      process.kill(-run.pid, "SIGINT");
      await run.closed;
      const output = run.output();
      expect(output.match(/SIGINT: stopping/g), output).toHaveLength(1);
      expect(output).not.toContain("again");
      // The stop ran to its end (npm's own exit status says nothing about it: npm dies of the SIGINT).
      expect(output).toMatch(/\[orderline\] stopped\n/);
    } finally {
      try {
        process.kill(-run.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }, 120_000);
});

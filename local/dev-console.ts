/**
 * What `npm run dev` prints instead of the handlers' raw EMF metric lines: a count per metric and dimension set,
 * summarized every few seconds and on exit. In Lambda the EMF lines are what CloudWatch turns into metrics; on a
 * laptop a line of JSON per counter per request buries the access lines.
 */

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace?: string; Dimensions?: string[][]; Metrics?: { Name: string }[] }[] };
  [field: string]: unknown;
}

/** The EMF document a stdout line holds, or undefined for any other line. */
export function parseEmf(line: string): EmfDocument | undefined {
  const text = line.trim();
  if (!text.startsWith("{") || !text.includes('"_aws"')) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<EmfDocument>;
    return Array.isArray(parsed._aws?.CloudWatchMetrics) ? (parsed as EmfDocument) : undefined;
  } catch {
    return undefined;
  }
}

/** `name{dim=value,...}` for each metric of an EMF document, with its value (the `service` dimension left out). */
export function countsOf(doc: EmfDocument): [string, number][] {
  const out: [string, number][] = [];
  for (const directive of doc._aws.CloudWatchMetrics) {
    const dims = [...new Set((directive.Dimensions ?? []).flat())].filter((d) => d !== "service").sort();
    const label = dims.map((d) => `${d}=${String(doc[d])}`).join(",");
    for (const metric of directive.Metrics ?? []) {
      const raw = doc[metric.Name];
      const value = Array.isArray(raw) ? raw.reduce((a: number, b) => a + Number(b), 0) : Number(raw ?? 1);
      out.push([label ? `${metric.Name}{${label}}` : metric.Name, Number.isFinite(value) ? value : 1]);
    }
  }
  return out;
}

export class MetricSummary {
  private recent = new Map<string, number>();
  private total = new Map<string, number>();

  add(doc: EmfDocument): void {
    for (const [key, value] of countsOf(doc)) {
      this.recent.set(key, (this.recent.get(key) ?? 0) + value);
      this.total.set(key, (this.total.get(key) ?? 0) + value);
    }
  }

  /** `metrics: a=1 b{status=created}=2` for what was counted since the last call; undefined when nothing was. */
  takeRecent(): string | undefined {
    if (this.recent.size === 0) return undefined;
    const line = format(this.recent);
    this.recent = new Map();
    return line;
  }

  /** Everything counted since start, for the exit summary; undefined when nothing was. */
  totals(): string | undefined {
    return this.total.size === 0 ? undefined : format(this.total);
  }
}

function format(counts: Map<string, number>): string {
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
}

/** Fields of a Powertools log line that say where it ran, not what happened: left out of the compact line. */
const CONTEXT_FIELDS = new Set([
  "level",
  "message",
  "timestamp",
  "service",
  "cold_start",
  "function_arn",
  "function_memory_size",
  "function_name",
  "function_request_id",
  "xray_trace_id",
  "sampling_rate",
  "error",
]);

/**
 * A Powertools JSON log line as one readable line, `[log] INFO order created order_id=... request_id=...`, with an
 * error's stack below it; undefined for any other line.
 */
export function compactLogLine(line: string): string | undefined {
  const text = line.trim();
  if (!text.startsWith("{") || !text.includes('"level"')) return undefined;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof entry.level !== "string" || typeof entry.message !== "string") return undefined;
  const fields = Object.entries(entry)
    .filter(([key, value]) => !CONTEXT_FIELDS.has(key) && value !== null && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  const error = entry.error as { name?: string; message?: string; stack?: string } | undefined;
  const head = [
    `[log] ${entry.level} ${entry.message}`,
    ...fields,
    ...(error ? [`error=${error.name ?? "Error"}: ${error.message ?? ""}`] : []),
  ].join(" ");
  return error?.stack ? `${head}\n${error.stack.split("\n").slice(1).join("\n")}` : head;
}

/**
 * Passes every line written to `stream` through `rewrite`: a string replaces the line, null drops it, undefined keeps
 * it as written. Powertools writes one whole line per call; a write holding anything but whole lines passes through
 * untouched. Returns the function that restores the stream.
 */
export function rewriteLines(
  stream: NodeJS.WriteStream,
  rewrite: (line: string) => string | null | undefined,
): () => void {
  const original = stream.write;
  const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if ((typeof chunk === "string" || Buffer.isBuffer(chunk)) && chunk.length > 0) {
      const text = chunk.toString();
      if (text.endsWith("\n")) {
        const lines = text.slice(0, -1).split("\n");
        const out = lines.map((line) => {
          const replaced = rewrite(line);
          return replaced === undefined ? line : replaced;
        });
        if (out.some((line, i) => line !== lines[i])) {
          const kept = out.filter((line): line is string => line !== null);
          if (kept.length === 0) {
            const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
            if (callback) process.nextTick(callback);
            return true;
          }
          const encoding = typeof rest[0] === "string" ? [rest[0]] : [];
          return (original as (...args: unknown[]) => boolean).call(
            this,
            `${kept.join("\n")}\n`,
            ...rest.slice(encoding.length),
          );
        }
      }
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  stream.write = write as typeof stream.write;
  return () => {
    stream.write = original;
  };
}

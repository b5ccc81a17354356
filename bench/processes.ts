/**
 * Child processes the bench measures: worker processes (the production entry worker/index.ts, or
 * bench/worker.ts when a scenario lifts the request budget) and the API server. They are separate OS
 * processes, as in production, so their memory can be read from /proc and their CPU is their own.
 */
import { type ChildProcess, fork, type Serializable, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnvironment, workerNodeFlags } from "../lib/config/env";

const ROOT = path.resolve(import.meta.dirname, "..");

export interface Child {
  name: string;
  process: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
  /** The last lines of output, for error messages. */
  tail: string[];
}

/**
 * Starts `node --import tsx <script>` and resolves `ready` once a stdout line matches `readyWhen`.
 * Output is kept only as a short tail: a worker at info level logs every job.
 */
export function spawnChild(
  name: string,
  script: string,
  env: Record<string, string>,
  readyWhen: (line: string) => boolean,
  nodeFlags: string[] = [],
): Child {
  // BENCH_NODE_ARGS: extra flags for the children, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile.
  const extra = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [...nodeFlags, ...extra, "--import", "tsx", path.join(ROOT, script)],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, PROCESS_NAME: name },
      // The IPC channel closes when the bench dies, however it dies; workers and the API server exit then.
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    },
  );
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  const ready = new Promise<void>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        remember(line);
        if (readyWhen(line)) resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => remember(chunk.toString()));
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}):\n${tail.join("\n")}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { name, process: child, ready, exited, tail };
}

export function spawnWorker(
  name: string,
  options: {
    databaseUrl: string;
    env: Record<string, string>;
    concurrency?: number;
    /** Requests per second of an in-process limiter; undefined: the production shared budget. */
    requestsPerSecond?: number;
  },
): Child {
  const script = options.requestsPerSecond === undefined ? "worker/index.ts" : "bench/worker.ts";
  return spawnChild(
    name,
    script,
    {
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      WORKER_CONCURRENCY: String(options.concurrency ?? 4),
      ...(options.requestsPerSecond === undefined
        ? {}
        : { BENCH_REQUESTS_PER_SECOND: String(options.requestsPerSecond) }),
    },
    (line) => line.includes('"msg":"worker started"'),
    // As the launcher starts them: the bench measures a production worker's memory.
    workerNodeFlags(parseEnvironment(process.env)),
  );
}

/** SIGTERM, then SIGKILL if it has not gone after `graceMs`. */
export async function stopChild(child: Child, graceMs = 5_000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill("SIGTERM");
  const timer = setTimeout(() => child.process.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Peak and current resident set size of a live process, in MiB (Linux /proc). */
export function memoryOf(pid: number | undefined): { peakMiB: number; currentMiB: number } | null {
  if (pid === undefined) return null;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const read = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { peakMiB: read("VmHWM") / 1024, currentMiB: read("VmRSS") / 1024 };
  } catch {
    return null;
  }
}

/**
 * Runs the calling script again as a child process (`<script> --child`) for one measured job: sends it
 * `input`, resolves with the one message it answers. Its own process, so its peak RSS is its job's alone.
 */
export function runAsChild<T>(
  scriptUrl: string,
  input: unknown,
  options: { what: string; env?: NodeJS.ProcessEnv; execArgv?: string[] },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = fork(fileURLToPath(scriptUrl), ["--child"], {
      env: options.env ?? process.env,
      execArgv: [...process.execArgv, ...(options.execArgv ?? [])],
    });
    worker.once("message", (message) => resolve(message as T));
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`${options.what} process exited ${code}`)));
    worker.send(input as Serializable);
  });
}

/** The child side of runAsChild: runs `work` on the parent's message, answers with its result, exits. */
export function serveAsChild<I, O>(work: (input: I) => Promise<O>): void {
  process.once("message", (input) => {
    void work(input as I).then(
      (result) => process.send?.(result as Serializable, () => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

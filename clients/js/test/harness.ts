// A real chatd for the SDK's tests: a fresh database in the throwaway cluster
// scripts/test.sh starts (CHATD_TEST_PG), the binary the build made
// (CHATD_BINARY), a fixed port so the server can be killed and restarted
// where the clients expect it.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";

const conninfo = process.env["CHATD_TEST_PG"];
const binary = process.env["CHATD_BINARY"];

export function haveServer(): string | undefined {
  if (!conninfo) return "CHATD_TEST_PG is not set (scripts/test.sh sets it)";
  if (!binary) return "CHATD_BINARY is not set (scripts/test.sh sets it)";
  return undefined;
}

export function createDatabase(): string {
  const name = `chatd_sdk_${process.pid}_${Date.now() % 1_000_000}_${Math.floor(Math.random() * 1000)}`;
  execFileSync("psql", [`${conninfo} dbname=postgres`, "-q", "-c", `CREATE DATABASE ${name}`]);
  return `${conninfo} dbname=${name}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export class Chatd {
  private proc: ChildProcess | null = null;
  output = "";
  constructor(
    readonly databaseUrl: string,
    readonly port: number,
    private readonly extra: string[] = [],
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/v1/ws`;
  }

  async start(): Promise<void> {
    const args = ["--database-url", this.databaseUrl, "--listen", `127.0.0.1:${this.port}`,
      "--threads", "2", "--db-pool", "4", "--ws-accept-rate", "0", ...this.extra];
    const proc = spawn(binary!, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chatd did not start:\n${this.output}`)), 20_000);
      const onData = (d: Buffer) => {
        this.output += d.toString();
        if (/chatd listening on/.test(this.output.split("\n").slice(-20).join("\n"))) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", onData);
      proc.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`chatd exited (${code}):\n${this.output}`));
      });
    });
  }

  /** kill -9: no drain, no goodbye to the sockets. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.output = "";
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    });
    this.proc = null;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGTERM");
    });
    this.proc = null;
  }
}

export function until(pred: () => boolean, timeoutMs = 15_000, what = "condition"): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

// A real chatd for the SDK's tests: a fresh database in the throwaway cluster
// scripts/test.sh starts (CHATD_TEST_PG), the binary the build made
// (CHATD_BINARY), a fixed port so the server can be killed and restarted
// where the clients expect it.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";

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
  /** Attachment files: a fresh temporary directory, kept across restarts of this server. */
  readonly dataDir = mkdtempSync(join(tmpdir(), "chatd-sdk-data-"));
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
      "--threads", "2", "--db-pool", "4", "--ws-accept-rate", "0", "--data-dir", this.dataDir, ...this.extra];
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

/** A valid PNG of width × height opaque pixels (RGB, filled with `rgb`), built from its chunks. */
export function pngBytes(width: number, height: number, rgb: [number, number, number] = [254, 44, 85]): Uint8Array<ArrayBuffer> {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    typed.copy(out, 4);
    out.writeUInt32BE(crc32(typed), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit depth, RGB, deflate, no filter method, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(
    Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", pixels), chunk("IEND", Buffer.alloc(0))]),
  );
}

// Starts one keywarden for a test file: the binary from KEYWARDEN_BIN (default
// target/debug/keywarden in the repository), `start-dev --features=docker` on a free loopback
// port over a fresh SQLite file in a temporary directory, bootstrap admin admin/admin.
// stop() ends that process (by its own handle) and removes the directory.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

export async function startServer(name = "node") {
  const raw = process.env.KEYWARDEN_BIN || "target/debug/keywarden";
  const bin = isAbsolute(raw) ? raw : join(REPO_ROOT, raw);
  if (!existsSync(bin)) {
    throw new Error(`keywarden binary not found at ${bin} (cargo build, or set KEYWARDEN_BIN)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "kw-nodeclients-"));
  const logDir = process.env.KEYWARDEN_LOG_DIR || dir;
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `${name}-server.log`);
  const log = createWriteStream(logPath);
  const port = await freePort();
  const child = spawn(
    bin,
    [
      "start-dev",
      "--features=docker",
      "--http-host=127.0.0.1",
      `--http-port=${port}`,
      `--db-url=sqlite://${dir}/kw.db`,
    ],
    {
      cwd: dir,
      env: {
        ...process.env,
        KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
        KC_BOOTSTRAP_ADMIN_PASSWORD: "admin",
        KC_LOG_LEVEL: process.env.KEYWARDEN_LOG_LEVEL || "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      await new Promise((r) => setTimeout(r, 200));
      const tail = existsSync(logPath) ? readFileSync(logPath, "utf8").slice(-4000) : "";
      throw new Error(`keywarden did not become ready on ${url}:\n${tail}`);
    }
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    logPath,
    base: (layout) => (layout === "auth" ? `${url}/auth` : url),
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await done;
        clearTimeout(timer);
      }
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const LAYOUTS = ["root", "auth"];

export function unique(prefix) {
  return `${prefix}-${Math.random().toString(16).slice(2, 12)}`;
}

import { spawn } from "node:child_process";
import net from "node:net";

/** A free TCP port on 127.0.0.1 (the OS picks one; it is closed again for the server to bind). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real SMTP server: Debian's aiosmtpd (python3-aiosmtpd) with its Debugging
 * handler, which prints every message it accepts to stdout; `output()` is
 * all it printed so far.
 */
export async function startSmtpServer(): Promise<{ url: string; output(): string; close(): Promise<void> }> {
  const port = await freePort();
  const child = spawn("/usr/bin/aiosmtpd", ["-n", "-l", `127.0.0.1:${port}`], {
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`aiosmtpd did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `smtp://127.0.0.1:${port}`,
    output: () => out,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

import { X509Certificate, createPrivateKey } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { generate } from "selfsigned";

export interface SandboxTls {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

const CERT_FILE = "localhost.crt";
const KEY_FILE = "localhost.key";
const LOCK_DIR = ".generating";
const DAY_MS = 24 * 60 * 60 * 1000;
/** Below this much remaining validity the certificate is replaced, so a long-running sandbox never expires mid-use. */
const MIN_REMAINING_MS = 7 * DAY_MS;
const VALIDITY_MS = 365 * DAY_MS;
/** A lock older than this was left by a crashed process (generation takes well under a second). */
const STALE_LOCK_MS = 30_000;

/**
 * Returns the sandbox's self-signed `localhost` certificate, generating it into `dir` on first use and
 * whenever the stored one is unreadable, mismatched, missing a SAN, or close to expiry.
 */
export async function ensureSandboxTls(dir: string, now: Date = new Date()): Promise<SandboxTls> {
  const certPath = path.join(dir, CERT_FILE);
  const keyPath = path.join(dir, KEY_FILE);
  await mkdir(dir, { recursive: true });

  const existing = await readUsable(certPath, keyPath, now);
  if (existing) return existing;

  // The launcher and test workers may start at the same moment; without a lock two writers can leave
  // one process's key next to the other's certificate.
  return withLock(path.join(dir, LOCK_DIR), async () => {
    const again = await readUsable(certPath, keyPath, now);
    if (again) return again;

    const pems = await generate([{ name: "commonName", value: "localhost" }], {
      keyType: "rsa",
      keySize: 2048,
      algorithm: "sha256",
      // Backdated a little so clocks that are slightly behind still accept it.
      notBeforeDate: new Date(now.getTime() - 60 * 60 * 1000),
      notAfterDate: new Date(now.getTime() + VALIDITY_MS),
      extensions: [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
            { type: 7, ip: "::1" },
          ],
        },
      ],
    });

    await writeAtomically(keyPath, pems.private, 0o600);
    await writeAtomically(certPath, pems.cert, 0o644);
    return { cert: pems.cert, key: pems.private, certPath, keyPath };
  });
}

async function readUsable(certPath: string, keyPath: string, now: Date): Promise<SandboxTls | undefined> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
  } catch {
    return undefined;
  }
  try {
    const x509 = new X509Certificate(cert);
    const remaining = new Date(x509.validTo).getTime() - now.getTime();
    const started = new Date(x509.validFrom).getTime() <= now.getTime();
    const names =
      x509.checkHost("localhost") !== undefined &&
      x509.checkIP("127.0.0.1") !== undefined &&
      x509.checkIP("::1") !== undefined;
    if (!started || remaining < MIN_REMAINING_MS || !names || !x509.checkPrivateKey(createPrivateKey(key))) {
      return undefined;
    }
  } catch {
    return undefined;
  }
  // An older copy may have been written with a looser mode; the key must stay private to this user.
  if (((await stat(keyPath)).mode & 0o077) !== 0) await chmod(keyPath, 0o600);
  return { cert, key, certPath, keyPath };
}

async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode);
  await rename(temporary, file);
}

async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + STALE_LOCK_MS * 2;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = await stat(lockDir).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await rm(lockDir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

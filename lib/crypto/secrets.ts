import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Secrets at rest (the Dialpad API key, the Graph client secret) are sealed with AES-256-GCM.
 * Format: "v1:<base64url iv>:<base64url tag>:<base64url ciphertext>". The version prefix lets a later
 * key rotation re-seal old values. The connection id is bound as additional data, so a ciphertext
 * copied onto another connection's row does not decrypt.
 */
const VERSION = "v1";

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error("The secret key must be 32 bytes");
    this.#key = key;
  }

  seal(plaintext: string, context: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [
      VERSION,
      iv.toString("base64url"),
      cipher.getAuthTag().toString("base64url"),
      ciphertext.toString("base64url"),
    ].join(":");
  }

  open(sealed: string, context: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(":");
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) {
      throw new Error("Unrecognised secret format");
    }
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }
}

/**
 * The key comes from SECRET_KEY when set (production: from a secret store). Otherwise one is generated
 * once into the data directory with mode 0600, which suits the embedded single-machine default.
 */
export function loadSecretKey(options: { secretKey?: string; dataDir: string }): Buffer {
  if (options.secretKey) return Buffer.from(options.secretKey, "base64");
  const file = path.resolve(options.dataDir, "secret.key");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      fs.writeFileSync(file, crypto.randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
    } catch (error) {
      // Another process created it first; use theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  const key = Buffer.from(fs.readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}

export function lastFour(secret: string): string {
  return secret.length <= 4 ? "" : secret.slice(-4);
}

import { SMTPServer } from "smtp-server";

export interface CapturedMail {
  id: number;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  /** The raw RFC 5322 message as received. */
  raw: string;
  text: string;
}

export interface RunningMailCatcher {
  host: string;
  port: number;
  messages: CapturedMail[];
  clear(): void;
  /** Resolves with the first message (already received or arriving) that matches. */
  waitFor(predicate: (mail: CapturedMail) => boolean, timeoutMs?: number): Promise<CapturedMail>;
  close(): Promise<void>;
}

/**
 * A real SMTP server that keeps what it receives, so notification e-mails can be read in the sandbox's
 * /mail page and asserted in tests. It accepts any sender and recipient and needs no authentication,
 * which is why it only ever listens on loopback.
 */
export async function startMailCatcher(
  options: { port?: number; host?: string; maxMessages?: number } = {},
): Promise<RunningMailCatcher> {
  const host = options.host ?? "127.0.0.1";
  const maxMessages = options.maxMessages ?? 500;
  const messages: CapturedMail[] = [];
  const waiters = new Set<{
    predicate: (mail: CapturedMail) => boolean;
    resolve: (mail: CapturedMail) => void;
  }>();
  let nextId = 1;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    banner: "sandbox mail catcher",
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const mail: CapturedMail = {
          id: nextId++,
          receivedAt: new Date().toISOString(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          subject: decodeHeader(headerValue(raw, "subject")),
          raw,
          text: bodyText(raw),
        };
        messages.push(mail);
        if (messages.length > maxMessages) messages.shift();
        for (const waiter of waiters) {
          if (waiter.predicate(mail)) {
            waiters.delete(waiter);
            waiter.resolve(mail);
          }
        }
        callback();
      });
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      const address = server.server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });

  return {
    host,
    port,
    messages,
    clear: () => {
      messages.length = 0;
    },
    waitFor(predicate, timeoutMs = 10_000) {
      const existing = messages.find(predicate);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve };
        waiters.add(waiter);
        setTimeout(() => {
          if (waiters.delete(waiter)) reject(new Error(`no matching e-mail within ${timeoutMs} ms`));
        }, timeoutMs).unref();
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function headerValue(raw: string, name: string): string {
  const headerBlock = raw.split(/\r?\n\r?\n/)[0] ?? "";
  const unfolded = headerBlock.replace(/\r?\n[ \t]+/g, " ");
  const match = unfolded.match(new RegExp(`^${name}:\\s*(.*)$`, "im"));
  return match?.[1]?.trim() ?? "";
}

/** Decodes RFC 2047 encoded words (=?utf-8?B?...?= / =?utf-8?Q?...?=), which nodemailer uses for non-ASCII subjects. */
function decodeHeader(value: string): string {
  return value.replace(
    /=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g,
    (_match, _charset: string, encoding: string, text: string) => {
      if (encoding.toUpperCase() === "B") return Buffer.from(text, "base64").toString("utf8");
      const bytes = text
        .replace(/_/g, " ")
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, "latin1").toString("utf8");
    },
  );
}

/** The first text/plain part, quoted-printable decoded: enough to read a notification in the sandbox. */
function bodyText(raw: string): string {
  const boundary = headerValue(raw, "content-type").match(/boundary="?([^";]+)"?/i)?.[1];
  let part = raw.slice(raw.search(/\r?\n\r?\n/) + 1);
  let transferEncoding = headerValue(raw, "content-transfer-encoding").toLowerCase();
  if (boundary) {
    const parts = raw.split(`--${boundary}`);
    const plain = parts.find((candidate) => /content-type:\s*text\/plain/i.test(candidate)) ?? parts[1] ?? "";
    transferEncoding = headerValue(plain.trimStart(), "content-transfer-encoding").toLowerCase();
    part = plain
      .trimStart()
      .split(/\r?\n\r?\n/)
      .slice(1)
      .join("\n\n");
  }
  if (transferEncoding === "quoted-printable") {
    const decoded = part
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(decoded, "latin1").toString("utf8").trim();
  }
  if (transferEncoding === "base64")
    return Buffer.from(part.replace(/\s+/g, ""), "base64").toString("utf8").trim();
  return part.trim();
}

import { env } from "../config/env";
import { createMailer, type Mailer, type OutgoingMail } from "./mailer";

/**
 * The provisioning e-mails Entra sends to the Notification Email: quarantine (once per quarantine and
 * per change of reason), held deletions, and failures when "Send an email notification when a failure
 * occurs" is on. Bodies carry names, counts and reasons only: never a token, secret or tenant URL key.
 */

export type NotificationTemplate =
  "quarantine" | "deletions-held" | "failure" | "configuration-failure" | "reconcile-findings";

export interface NotificationData {
  connectionName: string;
  connectionId: string;
  reason?: string;
  detail?: string;
  nextAttempt?: Date | null;
  /** `reason`: the source-shrink guard held them (Entra ID returned far fewer users), not the threshold. */
  held?: { count: number; threshold: number; sample: string[]; reason?: string };
  failures?: { count: number; sample: string[] };
  /** A cycle that failed because the configuration cannot work (a mapping reads an unknown attribute). */
  configuration?: { attribute: string; message: string; recommendedAction: string };
  cycleId?: string;
  /** A reconcile report that found more of some kind of finding than the report before it. */
  reconcile?: { runId: string; appeared: AppearedFinding[] };
}

/** One kind of reconcile finding that grew since the previous report. */
export interface AppearedFinding {
  objectType: "User" | "Group";
  category: string;
  before: number;
  now: number;
}

/** The reconcile report's categories, as the Reconcile tab names them. */
const RECONCILE_CATEGORIES: Record<string, string> = {
  orphan: "Dialpad accounts no Entra object is linked to (orphans)",
  drifted: "managed accounts or groups whose attributes or members differ from what Entra wants (drift)",
  missing: "linked objects missing from Dialpad",
  suspendedInDialpad: "accounts suspended in Dialpad that Entra considers active",
  activeInDialpad: "accounts active in Dialpad that are inactive or gone in Entra",
};

const QUARANTINE_REASONS: Record<string, string> = {
  EncounteredQuarantineException:
    "the credentials were rejected or the target could not be used (for example an invalid or expired Dialpad API key)",
  TooManyDeletes:
    "the cycle would have disabled or deleted more objects than the accidental deletion threshold",
  EncounteredEscrowProportionThreshold: "too large a share of the objects failed to provision",
  EncounteredBaseEscrowThreshold: "too many objects failed to provision",
  EncounteredTotalEscrowThreshold: "too many objects and references failed to provision",
};

export function renderNotification(
  template: NotificationTemplate,
  data: NotificationData,
): Omit<OutgoingMail, "to"> {
  const lines: string[] = [];
  let subject: string;
  switch (template) {
    case "quarantine": {
      subject = `Provisioning for "${data.connectionName}" is in quarantine`;
      lines.push(
        `Provisioning from Microsoft Entra ID to Dialpad for "${data.connectionName}" has been quarantined because ${
          data.held?.reason
            ? "Microsoft Entra ID returned far fewer users than the last cycle, so every disable and delete was held"
            : (QUARANTINE_REASONS[data.reason ?? ""] ?? "of repeated failures")
        } (reason: ${data.reason ?? "Unknown"}).`,
      );
      if (data.detail) lines.push("", `Details: ${data.detail}`);
      if (data.held) {
        lines.push(
          "",
          `${data.held.count} disable/delete operations were held (${
            data.held.reason ? "whatever the threshold" : `threshold ${data.held.threshold}`
          }), for example:`,
          ...data.held.sample.map((name) => `  - ${name}`),
          "",
          data.held.reason
            ? "If Microsoft Entra ID really has that many fewer users, open the connection and select Allow deletes. Otherwise restore what Entra ID returns (the app's assignments, the assigned groups' members, the Graph permissions), then restart provisioning."
            : "If these removals are intended, open the connection and select Allow deletes. Otherwise fix the assignments or scoping filters, then restart provisioning.",
        );
      }
      if (data.nextAttempt) lines.push("", `The next attempt runs at ${data.nextAttempt.toISOString()}.`);
      lines.push("", "Fix the cause, then restart provisioning to leave quarantine at once.");
      break;
    }
    case "deletions-held": {
      subject = `Deletions held for "${data.connectionName}"`;
      lines.push(
        `${data.held?.count ?? 0} disable/delete operations exceed the accidental deletion threshold of ${data.held?.threshold ?? "?"} and were not sent to Dialpad.`,
        ...(data.held?.sample ?? []).map((name) => `  - ${name}`),
      );
      break;
    }
    case "failure": {
      subject = `Provisioning failures for "${data.connectionName}"`;
      lines.push(
        `The last cycle succeeded with failures: ${data.failures?.count ?? 0} object(s) failed to provision and will be retried automatically.`,
        ...(data.failures?.sample ?? []).map((name) => `  - ${name}`),
        "",
        "See the provisioning logs (status Failure) for the error and the recommended action.",
      );
      break;
    }
    case "configuration-failure": {
      subject = `Provisioning failed for "${data.connectionName}": configuration error`;
      lines.push(
        `The last provisioning cycle for "${data.connectionName}" stopped at once, without retrying, because of a configuration error. Every cycle fails the same way until the configuration is fixed.`,
        "",
        `Attribute: ${data.configuration?.attribute ?? "unknown"}`,
        `Error: ${data.configuration?.message ?? ""}`,
        "",
        `Recommended action: ${data.configuration?.recommendedAction ?? "Fix the mappings, then restart provisioning."}`,
      );
      break;
    }
    case "reconcile-findings": {
      const appeared = data.reconcile?.appeared ?? [];
      subject = `Reconcile report for "${data.connectionName}": new orphans or drift in Dialpad`;
      lines.push(
        `The latest reconcile report of "${data.connectionName}" found more of these than the report before it:`,
        "",
        ...appeared.map(
          (finding) =>
            `  - ${finding.objectType === "Group" ? "Groups: " : ""}${RECONCILE_CATEGORIES[finding.category] ?? finding.category}: ${finding.now} (was ${finding.before})`,
        ),
        "",
        "Open the connection's Reconcile tab to see them, and adopt, suspend, re-apply or recreate as needed.",
      );
      break;
    }
  }
  lines.push(
    "",
    `Connection id: ${data.connectionId}${data.cycleId ? `, cycle id: ${data.cycleId}` : ""}${
      data.reconcile ? `, report id: ${data.reconcile.runId}` : ""
    }`,
  );
  return { subject, text: lines.join("\n") };
}

/** The mailer configured by SMTP_* settings, or null when no SMTP server is configured. */
export function mailerFromEnvironment(): Mailer | null {
  const settings = env();
  if (!settings.SMTP_HOST) return null;
  return createMailer({
    host: settings.SMTP_HOST,
    port: settings.SMTP_PORT,
    secure: settings.SMTP_SECURE,
    user: settings.SMTP_USER,
    password: settings.SMTP_PASSWORD,
    from: settings.SMTP_FROM,
  });
}

/** Sends one notification; false when there is no recipient or mailer, or sending failed (retried next time). */
export async function sendNotification(
  mailer: Mailer | null,
  to: string | null,
  template: NotificationTemplate,
  data: NotificationData,
  log?: { warn(fields: Record<string, unknown>, message: string): void },
): Promise<boolean> {
  if (!mailer || !to) return false;
  try {
    await mailer.send({ to, ...renderNotification(template, data) });
    return true;
  } catch (error) {
    log?.warn(
      { template, error: error instanceof Error ? error.message : String(error) },
      "notification e-mail failed",
    );
    return false;
  }
}

import { afterAll, beforeAll, expect, test } from "vitest";
import { createMailer } from "../../lib/notify/mailer";
import { startMailCatcher, type RunningMailCatcher } from "./server";

let catcher: RunningMailCatcher;
beforeAll(async () => {
  catcher = await startMailCatcher();
});
afterAll(async () => catcher.close());

test("a notification sent over SMTP arrives with its recipient, subject and text", async () => {
  const mailer = createMailer({
    host: catcher.host,
    port: catcher.port,
    secure: false,
    from: "noreply@sandbox.example",
  });
  await mailer.send({
    to: "it-admins@contoso.example",
    subject: "Provisioning quarantined: Dialpad — Zoë's company",
    text: "Reason: EncounteredQuarantineException\nNext attempt: in 6 hours — fix the secret token.",
  });
  const mail = await catcher.waitFor((message) => message.to.includes("it-admins@contoso.example"));
  expect(mail.from).toBe("noreply@sandbox.example");
  expect(mail.subject).toBe("Provisioning quarantined: Dialpad — Zoë's company");
  expect(mail.text).toContain("Next attempt: in 6 hours — fix the secret token.");
});

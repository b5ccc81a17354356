import { expect, test } from "@playwright/test";
import { SANDBOX_DIALPAD_KEY } from "../sandbox/dialpad/server";
import { ADMIN, dialpadUrl, signIn, snapshot } from "./fixtures";

/**
 * The newcomer's journey from the Dialpad tutorial, in the sandbox: sign in through the real login
 * page, enter the tenant URL and key, test the connection, provision one user on demand, and read the
 * provisioning log entry it produced — then check the emulated Dialpad really holds that user.
 */
test("an admin connects Dialpad, provisions a user on demand and reads the log", async ({
  page,
  request,
}) => {
  // The console runs under a strict, nonce-based CSP: anything it blocks would break a screen silently.
  const policyViolations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
  });
  await signIn(page, ADMIN);
  await snapshot(page, "01-connections");

  await page.getByRole("link", { name: /Dialpad \(sandbox\)/ }).click();
  await page.getByRole("link", { name: "Provisioning settings" }).click();

  // A tenant URL that is not a URL is refused field by field, and nothing is saved.
  const tenantUrl = page.getByLabel("Tenant URL");
  await expect(page.getByLabel("Key expiry date")).toBeVisible();
  const savedBefore = await tenantUrl.inputValue();
  // New connections are continuous; Entra's interval is one choice away.
  await expect(page.getByLabel("Schedule", { exact: true })).toHaveValue("continuous");
  await page.getByLabel("Schedule", { exact: true }).selectOption("interval");
  await page.getByLabel("Minutes between cycles").fill("15");
  await tenantUrl.fill("not a url");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(
    page.getByText("The tenant URL must be a URL such as https://dialpad.com/scim.").first(),
  ).toBeVisible();
  // The refusal is announced with the field: invalid, and described by the error instead of the hint.
  await expect(tenantUrl).toHaveAttribute("aria-invalid", "true");
  await expect(tenantUrl).toHaveAccessibleDescription(/must be a URL/);
  await page.reload();
  await expect(tenantUrl).toHaveValue(savedBefore);
  await expect(tenantUrl).not.toHaveAttribute("aria-invalid", /./);
  await expect(tenantUrl).toHaveAccessibleDescription("For Dialpad this is https://dialpad.com/scim");
  await expect(page.getByLabel("Schedule", { exact: true })).toHaveValue("continuous");
  await expect(page.getByLabel("Minutes between cycles")).toHaveCount(0);

  // A wrong key fails Test Connection with a message naming the 401.
  await page.getByRole("button", { name: "Fill in the sandbox Dialpad" }).click();
  await page.getByLabel("Secret token").fill("wrong-key-1234");
  await page.getByRole("button", { name: "Test Connection" }).click();
  await expect(page.getByText("Connection failed", { exact: true })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "401" })).toBeVisible();

  await page.getByRole("button", { name: "Fill in the sandbox Dialpad" }).click();
  await page.getByRole("button", { name: "Test Connection" }).click();
  await expect(page.getByText("Connection succeeded", { exact: true })).toBeVisible();
  // The title says it; the message under it does not say it again.
  await expect(page.getByText(/Connection succeeded/)).toHaveCount(1);
  await snapshot(page, "02-settings-test-connection");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  await expect(page.getByText(/A key ending in “.{4}” is saved/)).toBeVisible();

  await page.getByRole("link", { name: "Provision on demand" }).click();
  // The placeholder names no one; an empty search says what to type instead of doing nothing.
  await expect(page.getByLabel("Search users")).toHaveAttribute(
    "placeholder",
    "Name, user principal name or mail",
  );
  await page.getByRole("button", { name: "Search" }).click();
  await expect(
    page.getByText("Type the start of a name, user principal name or mail, then press Search."),
  ).toBeVisible();
  // Two people named Alex Kim are told apart by their user principal names; each is marked assigned.
  await page.getByLabel("Search users").fill("Alex Kim");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(
    page.getByRole("radio", { name: /^Alex Kim\s*alex\.kim@contoso\.example.*Assigned$/ }),
  ).toBeVisible();
  await expect(
    page.getByRole("radio", { name: /^Alex Kim\s*alex\.kim2@contoso\.example.*Assigned$/ }),
  ).toBeVisible();
  await page.getByLabel("Search users").fill("una.unassigned");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("radio", { name: /Una Unassigned.*Not assigned$/ })).toBeVisible();
  await page.getByLabel("Search users").fill("Zoë");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /Zoë Ångström/ }).check();
  await page.getByRole("button", { name: "Provision", exact: true }).click();
  await expect(page.getByText("Created the user in Dialpad", { exact: false })).toBeVisible();
  await expect(page.getByText("The user is in scope")).toBeVisible();
  await snapshot(page, "03-on-demand-result");

  // A group with one of its members, as Entra allows (up to five): the group is created in Dialpad and
  // the member is provisioned and added to it.
  await page.getByText("A group", { exact: true }).click();
  await page.getByLabel("Search groups").fill("Dialpad Us");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /Dialpad Users/ }).check();
  await page.getByLabel("Filter members").fill("gabe");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("checkbox", { name: /gabe\.both@contoso\.example/ }).check();
  await expect(page.getByText("(1 of 5 chosen)")).toBeVisible();
  await page.getByRole("button", { name: "Provision group and 1 member" }).click();
  await expect(page.getByText("Created the group in Dialpad", { exact: false })).toBeVisible();
  await expect(page.getByText("Added 1 and removed 0 member(s) of the Dialpad group")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Members provisioned with the group" })).toBeVisible();
  await expect(
    page.locator("details summary").filter({ hasText: /Success\s*Create\s*Gabe Both/ }),
  ).toHaveCount(1);
  await snapshot(page, "03b-on-demand-group-result");

  // "Why?" for a user not yet provisioned: the decision and every mapping, with nothing written.
  await page.getByText("A user", { exact: true }).click();
  await page.getByLabel("Search users").fill("José");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /José Müller/ }).check();
  await page.getByRole("button", { name: "Why? (changes nothing)" }).click();
  await expect(page.getByTestId("explain-decision")).toHaveText(
    "The next provisioning of this user would create the user in Dialpad.",
  );
  const mappings = page.getByRole("table", { name: /Attribute mappings, evaluated for this user/ });
  await expect(
    mappings.getByRole("row", { name: /^userName \[userPrincipalName\] jose\.muller@contoso\.example sent/ }),
  ).toBeVisible();
  // No cell splits a word anywhere it likes: values wrap between words.
  const breakAll = await mappings
    .locator("td")
    .evaluateAll((cells) => cells.filter((cell) => getComputedStyle(cell).wordBreak === "break-all").length);
  expect(breakAll).toBe(0);
  await snapshot(page, "03c-explain-user");

  // Why? for a user out of scope: no mapping claims its value is sent.
  await page.getByLabel("Search users").fill("una.unassigned");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("radio", { name: /Una Unassigned/ }).check();
  await page.getByRole("button", { name: "Why? (changes nothing)" }).click();
  await expect(mappings.getByRole("row", { name: /^userName .* not sent \(out of scope\)/ })).toBeVisible();
  await expect(mappings.getByRole("cell", { name: "sent", exact: true })).toHaveCount(0);

  await page.getByRole("link", { name: "Provisioning logs" }).click();
  const row = page.getByRole("row").filter({ hasText: "Zoë Ångström" });
  await expect(row).toContainText("Create");
  await expect(row).toContainText("Success");
  await expect(row).toContainText(ADMIN.username);
  await row.getByRole("button", { name: "Details" }).click();
  await page.getByRole("tab", { name: "Modified properties" }).click();
  await expect(
    page.getByRole("row", {
      name: 'emails[type eq "work"].value — zoe.angstrom@contoso.example',
      exact: true,
    }),
  ).toBeVisible();
  await snapshot(page, "04-logs");

  // The emulated Dialpad company now holds the user with the mapped attributes.
  const filter = encodeURIComponent('userName eq "zoe.angstrom@contoso.example"');
  const found = await request.get(`${dialpadUrl()}/scim/Users?filter=${filter}`, {
    headers: { authorization: `Bearer ${SANDBOX_DIALPAD_KEY}` },
    ignoreHTTPSErrors: true,
  });
  expect(found.ok()).toBe(true);
  const list = (await found.json()) as { totalResults: number; Resources: Record<string, unknown>[] };
  expect(list.totalResults).toBe(1);
  const user = list.Resources[0]!;
  expect(user.active).toBe(true);
  expect(user.name).toMatchObject({ givenName: "Zoë", familyName: "Ångström" });
  expect(user.emails).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: "work", value: "zoe.angstrom@contoso.example" }),
    ]),
  );
  expect(policyViolations).toEqual([]);
});

test("an admin creates a second connection, and deletes it again from its settings", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole("button", { name: "New connection" }).click();
  const dialog = page.getByRole("dialog", { name: "New connection" });
  await expect(dialog.getByLabel("Name")).toBeFocused();
  await expect(dialog.getByRole("button", { name: "Create" })).toBeDisabled();
  // A tenant URL that is not a URL is refused on its field, and nothing is created.
  await dialog.getByLabel("Name").fill("Dialpad EMEA");
  await dialog.getByLabel("Tenant URL").fill("not a url");
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(dialog.getByLabel("Tenant URL")).toHaveAttribute("aria-invalid", "true");
  await dialog.getByLabel("Tenant URL").fill("https://dialpad.com/scim");
  await dialog.getByLabel("Secret token").fill("emea-api-key-1234");
  await dialog.getByRole("button", { name: "Create" }).click();

  // It opens on its settings: the key is saved (only its last four are shown), provisioning is Off.
  await expect(page).toHaveURL(/\/connections\/[0-9a-f-]+\/settings$/);
  await expect(page.getByText("A key ending in “1234” is saved", { exact: false })).toBeVisible();
  await page.getByRole("link", { name: "Dialpad provisioning", exact: true }).click();
  await expect(page.getByRole("link", { name: /Dialpad EMEA/ })).toContainText("Provisioning Off");
  await expect(page.getByRole("link", { name: /Dialpad \(sandbox\)/ })).toBeVisible();

  await page.getByRole("link", { name: /Dialpad EMEA/ }).click();
  await page.getByRole("link", { name: "Provisioning settings", exact: true }).click();
  await page.getByRole("button", { name: "Delete connection…" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete Dialpad EMEA" });
  await expect(confirm).toContainText("Nothing is deleted in Dialpad or in Entra ID");
  await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("heading", { name: "Connections", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: /Dialpad EMEA/ })).toHaveCount(0);
  await expect(page.getByRole("link", { name: /Dialpad \(sandbox\)/ })).toBeVisible();
});

import { describe, expect, test } from "vitest";
import { checkTenantUrl } from "./tenant-url";

const production = { allowLoopbackHttp: false, allowPrivateAddresses: false };
const sandbox = { allowLoopbackHttp: true, allowPrivateAddresses: false };
const operatorAllowsPrivate = { allowLoopbackHttp: false, allowPrivateAddresses: true };

describe("tenant URL policy", () => {
  test.each([
    ["https://dialpad.com/scim", production, null],
    ["not a url", production, "must be a URL such as https://dialpad.com/scim"],
    ["dialpad.com/scim", production, "must be a URL such as https://dialpad.com/scim"],
    ["http://dialpad.com/scim", production, "must use https"],
    ["ftp://dialpad.com/scim", production, "must use https"],
    ["https://admin:secret@dialpad.com/scim", production, "must not contain a user name or password"],
    ["https://dialpad.com/scim?apikey=abc", production, "must not contain a query string or fragment"],
    ["https://10.0.0.5/scim", production, expect.stringContaining("private, loopback or link-local")],
    ["https://192.168.1.20/scim", production, expect.stringContaining("private")],
    ["https://169.254.169.254/latest", production, expect.stringContaining("link-local")],
    ["https://[::1]/scim", production, expect.stringContaining("loopback")],
    ["https://localhost:3103/scim", production, expect.stringContaining("loopback")],
    ["https://localhost:3103/scim", sandbox, null],
    ["http://127.0.0.1:3103/scim", sandbox, null],
    ["http://10.0.0.5/scim", sandbox, "must use https"],
    ["https://10.0.0.5/scim", operatorAllowsPrivate, null],
  ])("%s", (url, policy, expected) => {
    expect(checkTenantUrl(url, policy)).toEqual(expected);
  });
});

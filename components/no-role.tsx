"use client";

import { useMsal } from "@azure/msal-react";
import { ApiProblem } from "@/lib/client/api";
import { Alert } from "./ui/alert";

/** The API answers 403 to a signed-in person whose token carries neither app role. */
export function isNoRole(error: unknown): boolean {
  return error instanceof ApiProblem && error.status === 403;
}

/** Who is signed in, from the ID token MSAL holds: known even when the API refuses the person. */
export function useSignedInAccount(): { name: string; username: string } | null {
  const { instance, accounts } = useMsal();
  const account = instance.getActiveAccount() ?? accounts[0];
  return account ? { name: account.name || account.username, username: account.username } : null;
}

/** Tells a person without a role why they see nothing, and whom to ask. */
export function NoRoleNotice() {
  const account = useSignedInAccount();
  return (
    <Alert tone="warning" title="You have no role for this app">
      <p>
        You are signed in{account ? ` as ${account.name} (${account.username})` : ""}, but the Dialpad
        provisioning app has not given you a role, so it shows you nothing.
      </p>
      <p className="mt-1">
        Ask an administrator of your Microsoft Entra tenant (someone who manages the app&apos;s Users and
        groups) to assign you Provisioning.Reader to view provisioning, or Provisioning.Admin to change it.
        Then sign out and sign in again.
      </p>
    </Alert>
  );
}

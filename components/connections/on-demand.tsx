"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { GroupPicker, UserPicker } from "@/components/directory/directory-picker";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { TextInput } from "@/components/ui/field";
import { describeProblem } from "@/lib/client/api";
import { useGroupMembers, type DirectoryGroup, type DirectoryUser } from "@/lib/client/directory";
import { type OnDemandResult, type OnDemandSubject, useOnDemandApi } from "@/lib/client/on-demand";
import { queryKeys } from "@/lib/client/query-keys";
import { ModifiedPropertiesTable } from "./modified-properties";
import { ExplanationView } from "./explanation-view";
import { StepList } from "./step-list";

/** Entra's limit: a group is provisioned on demand with at most five of its members. */
const MEMBER_LIMIT = 5;

export function ProvisionOnDemand({ connectionId, canWrite }: { connectionId: string; canWrite: boolean }) {
  const onDemand = useOnDemandApi(connectionId);
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<"User" | "Group">("User");
  const [user, setUser] = useState<DirectoryUser | null>(null);
  const [group, setGroup] = useState<DirectoryGroup | null>(null);
  const [members, setMembers] = useState<DirectoryUser[]>([]);

  const run = useMutation({
    mutationFn: onDemand.provision,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.connections.all }),
  });

  const explain = useMutation({
    mutationFn: (picked: DirectoryUser) => onDemand.explainUser(picked.id),
  });

  const subject: OnDemandSubject | null =
    kind === "User"
      ? user && { objectId: user.id, objectTypeName: "User" }
      : group && {
          objectId: group.id,
          objectTypeName: "Group",
          links: { members: members.map((member) => ({ objectId: member.id, objectTypeName: "User" })) },
        };

  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_minmax(0,1.4fr)]">
      <Card
        title={kind === "User" ? "Select a user" : "Select a group and its members"}
        description={
          kind === "User"
            ? "Search Entra ID by name, user principal name or mail. The user is provisioned now, outside the schedule, through the same steps as a cycle."
            : `Search Entra ID for a group, then pick up to ${MEMBER_LIMIT} of its direct members. The group and those members are provisioned now, and the members are added to the Dialpad group.`
        }
      >
        <fieldset className="mb-4">
          <legend className="mb-1 text-sm font-medium">Provision</legend>
          <div className="inline-flex rounded-md border border-slate-300 p-0.5 dark:border-slate-700">
            {(["User", "Group"] as const).map((option) => (
              <label
                key={option}
                className={
                  "cursor-pointer rounded px-3 py-1 text-sm has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-sky-500 " +
                  (kind === option
                    ? "bg-sky-700 text-white"
                    : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800")
                }
              >
                <input
                  type="radio"
                  name="on-demand-kind"
                  className="sr-only"
                  checked={kind === option}
                  onChange={() => {
                    setKind(option);
                    run.reset();
                  }}
                />
                {option === "User" ? "A user" : "A group"}
              </label>
            ))}
          </div>
        </fieldset>

        {kind === "User" ? (
          <UserPicker
            connectionId={connectionId}
            id="on-demand-user"
            label="Search users"
            placeholder="Name, user principal name or mail"
            selectedId={user?.id ?? null}
            onSelect={setUser}
          />
        ) : (
          <>
            <GroupPicker
              connectionId={connectionId}
              id="on-demand-group"
              label="Search groups"
              placeholder="Group name or mail"
              selectedId={group?.id ?? null}
              onSelect={(picked) => {
                setGroup(picked);
                setMembers([]);
              }}
            />
            {group && (
              <MemberPicker
                connectionId={connectionId}
                group={group}
                chosen={members}
                onChange={setMembers}
              />
            )}
          </>
        )}

        <div className="mt-4 flex flex-wrap gap-2">
          <Button
            disabled={!subject || !canWrite || run.isPending}
            onClick={() => {
              explain.reset();
              if (subject) run.mutate(subject);
            }}
            title={canWrite ? undefined : "Read-only: your role cannot provision."}
          >
            {run.isPending
              ? "Provisioning…"
              : kind === "Group" && members.length > 0
                ? `Provision group and ${members.length} member${members.length === 1 ? "" : "s"}`
                : "Provision"}
          </Button>
          {kind === "User" && (
            <Button
              variant="secondary"
              disabled={!user || explain.isPending}
              onClick={() => {
                run.reset();
                if (user) explain.mutate(user);
              }}
            >
              {explain.isPending ? "Explaining…" : "Why? (changes nothing)"}
            </Button>
          )}
        </div>
        {!canWrite && (
          <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
            Read-only: your role (Provisioning.Reader) cannot provision. Why? only reads, so you can use it.
          </p>
        )}
      </Card>

      <Card title={explain.data || explain.isPending || explain.error ? "Why?" : "Result"}>
        {explain.isPending && <p role="status">Evaluating the mappings, scoping and match…</p>}
        {explain.error && (
          <Alert tone="error" title="Could not explain this user">
            {describeProblem(explain.error)}
          </Alert>
        )}
        {explain.data && <ExplanationView explanation={explain.data} />}
        {!explain.data &&
          !explain.isPending &&
          !explain.error &&
          !run.data &&
          !run.error &&
          !run.isPending && (
            <p className="text-sm text-slate-600 dark:text-slate-400">
              Pick a {kind === "User" ? "user" : "group"} and select Provision to see each step.
            </p>
          )}
        {run.isPending && <p role="status">Running the provisioning steps…</p>}
        {run.error && (
          <Alert tone="error" title="Provisioning failed">
            {describeProblem(run.error)}
          </Alert>
        )}
        {run.data && <OnDemandResultView result={run.data} />}
        {run.data?.members && run.data.members.length > 0 && (
          <section className="mt-6 space-y-3" aria-labelledby="on-demand-members">
            <h3 id="on-demand-members" className="text-sm font-semibold">
              Members provisioned with the group
            </h3>
            {run.data.members.map((member) => (
              <details
                key={member.sourceIdentity.id}
                className="rounded-md border border-slate-200 p-3 dark:border-slate-800"
              >
                <summary className="cursor-pointer text-sm">
                  <StatusBadge status={member.status} /> <span className="font-medium">{member.action}</span>{" "}
                  {member.sourceIdentity.displayName ??
                    member.reportableIdentifier ??
                    member.sourceIdentity.id}
                </summary>
                <div className="mt-3">
                  <OnDemandResultView result={member} />
                </div>
              </details>
            ))}
          </section>
        )}
      </Card>
    </div>
  );
}

/** The group's direct members as checkboxes; at most five can be chosen, as in Entra. */
function MemberPicker({
  connectionId,
  group,
  chosen,
  onChange,
}: {
  connectionId: string;
  group: DirectoryGroup;
  chosen: DirectoryUser[];
  onChange: (members: DirectoryUser[]) => void;
}) {
  const [filter, setFilter] = useState("");
  const [submitted, setSubmitted] = useState("");
  const members = useGroupMembers(connectionId, group.id, submitted);
  const isChosen = (member: DirectoryUser) => chosen.some((item) => item.id === member.id);
  const full = chosen.length >= MEMBER_LIMIT;
  return (
    <fieldset className="mt-4">
      <legend className="text-sm font-medium">
        Members of {group.displayName ?? group.id} ({chosen.length} of {MEMBER_LIMIT} chosen)
      </legend>
      <div className="mt-2 flex gap-2">
        <label htmlFor="on-demand-member-filter" className="sr-only">
          Filter members
        </label>
        <TextInput
          id="on-demand-member-filter"
          value={filter}
          onChange={(event) => setFilter(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              setSubmitted(filter.trim());
            }
          }}
          placeholder="Filter by name, UPN or mail"
        />
        <Button variant="secondary" onClick={() => setSubmitted(filter.trim())}>
          Filter
        </Button>
      </div>
      {members.isFetching && (
        <p className="mt-2 text-sm" role="status">
          Loading members…
        </p>
      )}
      {members.error && (
        <Alert tone="error" className="mt-2" title="Could not list the members">
          {describeProblem(members.error)}
        </Alert>
      )}
      {members.data && members.data.members.length === 0 && (
        <p className="mt-2 text-sm">
          {submitted ? `No direct member matches “${submitted}”.` : "The group has no direct user members."}
        </p>
      )}
      {members.data && members.data.members.length > 0 && (
        <>
          <ul className="mt-2 max-h-64 divide-y divide-slate-200 overflow-y-auto rounded-md border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
            {members.data.members.map((member) => (
              <li key={member.id}>
                <label className="flex cursor-pointer items-center gap-3 px-3 py-1.5">
                  <input
                    type="checkbox"
                    checked={isChosen(member)}
                    disabled={full && !isChosen(member)}
                    onChange={(event) =>
                      onChange(
                        event.target.checked
                          ? [...chosen, member]
                          : chosen.filter((item) => item.id !== member.id),
                      )
                    }
                  />
                  <span className="min-w-0">
                    <span className="block truncate text-sm font-medium">
                      {member.displayName ?? member.userPrincipalName}
                    </span>
                    <span className="block truncate text-xs text-slate-600 dark:text-slate-400">
                      {member.userPrincipalName}
                    </span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
          <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
            {members.data.total > members.data.members.length
              ? `Showing ${members.data.members.length} of ${members.data.total}${members.data.complete ? "" : "+"} direct members; filter to find others.`
              : `${members.data.total} direct member${members.data.total === 1 ? "" : "s"}. Members of nested groups are not provisioned.`}
            {full && ` You have chosen ${MEMBER_LIMIT}, the most Entra allows at once.`}
          </p>
        </>
      )}
    </fieldset>
  );
}

function StatusBadge({ status }: { status: OnDemandResult["status"] }) {
  const tone =
    status === "Success"
      ? "success"
      : status === "Failure"
        ? "error"
        : status === "Warning"
          ? "warning"
          : "neutral";
  return <Badge tone={tone}>{status}</Badge>;
}

function OnDemandResultView({ result }: { result: OnDemandResult }) {
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <StatusBadge status={result.status} />
        <span className="text-sm font-medium">{result.action}</span>
        <span className="text-sm text-slate-600 dark:text-slate-400">
          {result.sourceIdentity.type === "Group" ? "Group " : ""}
          {result.sourceIdentity.displayName}
        </span>
      </div>
      {result.statusInfo.errorCode && (
        <Alert tone={result.status === "Failure" ? "error" : "info"} title={result.statusInfo.errorCode}>
          <p>{result.statusInfo.reason}</p>
          {result.statusInfo.recommendedAction && (
            <p className="mt-1">Recommended action: {result.statusInfo.recommendedAction}</p>
          )}
        </Alert>
      )}
      <StepList steps={result.provisioningSteps} />
      <ModifiedPropertiesTable properties={result.modifiedProperties} />
      <p className="text-xs text-slate-500 dark:text-slate-400">Change id {result.changeId}</p>
    </div>
  );
}

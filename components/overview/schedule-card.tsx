"use client";

import { Alert } from "@/components/ui/alert";
import { Card } from "@/components/ui/card";
import type { Status } from "@/lib/client/status";
import { Row } from "./cycle-cards";
import { formatDate, formatDuration } from "./format";

/**
 * How this connection keeps Dialpad up to date. Continuous mode shows what its polls of Microsoft Graph
 * last saw and how long the last change took to reach Dialpad, in the words Entra's admins know.
 */
export function ScheduleCard({ data }: { data: Status | undefined }) {
  if (!data) return null;
  const { schedule } = data;
  if (schedule.mode === "interval") {
    return (
      <Card title="Schedule">
        <p className="text-sm" data-testid="schedule-mode">
          Every few minutes, as Entra ID runs its cycles (about every 40 minutes): a change in Entra ID waits
          for the next cycle. Choose Continuous in the provisioning settings to have changes reach Dialpad
          within about a minute.
        </p>
      </Card>
    );
  }
  const change = schedule.lastChange;
  return (
    <Card title="Schedule: continuous">
      <div className="space-y-3 text-sm">
        <p data-testid="schedule-mode">
          Changes in Entra ID reach Dialpad within about a minute. Microsoft Graph&apos;s change feeds are
          read every few seconds (more often right after a change), and a cycle runs as soon as something
          changed; Entra runs a cycle about every 40 minutes. When nothing changes, a look costs a few Graph
          requests and none to Dialpad.
        </p>
        <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
          <Row term="Last look at Entra ID">
            <span data-testid="last-poll">
              {schedule.lastPollAt ? formatDate(schedule.lastPollAt) : "Not yet (starts with provisioning)"}
            </span>
          </Row>
          <Row term="Next look">
            {schedule.nextPollAt ? formatDate(schedule.nextPollAt) : "After the running cycle"}
          </Row>
          <Row term="Last change seen">
            <span data-testid="last-change">
              {!change
                ? "None yet"
                : change.reachedDialpadAt
                  ? `${formatDate(change.seenAt)}; reached Dialpad ${formatDuration(change.seenAt, change.reachedDialpadAt)} later (${change.writes.toLocaleString()} ${change.writes === 1 ? "change" : "changes"})`
                  : `${formatDate(change.seenAt)}; nothing reached Dialpad yet (being provisioned, or nothing there to change)`}
            </span>
          </Row>
        </dl>
        {schedule.lastPollError && (
          <Alert tone="warning" title="The last look at Entra ID did not get through">
            Microsoft Graph answered: {schedule.lastPollError}. Polling slows down and tries again; nothing is
            lost, because the next look reads every change since the last cycle.
          </Alert>
        )}
      </div>
    </Card>
  );
}

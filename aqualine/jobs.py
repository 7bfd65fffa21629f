"""Periodic jobs run by `aqualine worker`: (name, interval in seconds, management command).

The worker runs them one after the other, so each keeps its run short: the report summaries
refresh only the days that changed (the full pass over the last 92 days is daily, see
`aqualine.reports.summaries`), and the Excel export job writes exports until a minute has gone
by and leaves the rest for its next turn.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    command: tuple[str, ...]
    # Jobs of one lane run one after another in a thread of their own: a long Excel export or
    # a summary rebuild never holds up the deadline reminders.
    lane: str = "main"


JOBS: tuple[Job, ...] = (
    Job("deadline reminders", 60, ("remind_deadlines",)),
    Job("expired sessions", 3600, ("clearsessions",)),
    Job("old login-failure records", 24 * 3600, ("axes_reset_logs", "--age", "90")),
    Job("old sign-in audit events", 24 * 3600, ("prune_audit", "--days", "180")),
    Job("recordings past the retention period", 24 * 3600, ("prune_recordings",)),
    Job("report summaries of changed days", 300, ("refresh_report_summaries",), "summaries"),
    Job(
        "report summaries of the last 92 days",
        24 * 3600,
        ("refresh_report_summaries", "--days", "92"),
        "summaries",
    ),
    Job("report Excel exports", 10, ("run_report_exports", "--budget", "60"), "exports"),
)

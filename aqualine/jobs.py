"""Periodic jobs run by `aqualine worker`: (name, interval in seconds, management command)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    command: tuple[str, ...]


JOBS: tuple[Job, ...] = (
    Job("deadline reminders", 60, ("remind_deadlines",)),
    Job("expired sessions", 3600, ("clearsessions",)),
    Job("old login-failure records", 24 * 3600, ("axes_reset_logs", "--age", "90")),
    Job("old sign-in audit events", 24 * 3600, ("prune_audit", "--days", "180")),
    Job("recordings past the retention period", 24 * 3600, ("prune_recordings",)),
)

"""The web side's client of the switch's control API (the only way web code reaches it)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from aqualine.telephony.api.events import Event, event_from_dict


class SwitchUnavailable(Exception):
    """The switch did not answer (not running, wrong address or token)."""


class SwitchRefused(Exception):
    """The switch refused a command: `code` (e.g. "extension_not_registered") and a reason."""

    def __init__(self, code: str, reason: str, status: int) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.status = status


def _target(target: str, kind: str) -> dict[str, str]:
    return {"target": target, "kind": kind} if kind else {"target": target}


class SwitchClient:
    def __init__(
        self, base_url: str | None = None, token: str | None = None, timeout: float = 2.0
    ) -> None:
        self.base_url = (base_url or settings.SWITCH_API_URL).rstrip("/")
        self.token = token if token is not None else settings.SWITCH_TOKEN
        self.timeout = timeout

    def _get(self, path: str) -> Any:
        request = urllib.request.Request(  # noqa: S310 (the URL comes from settings)
            self.base_url + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            raise SwitchUnavailable(f"the switch answered {error.code}") from None
        except (OSError, ValueError) as error:
            raise SwitchUnavailable(str(error)) from None

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(  # noqa: S310 (the URL comes from settings)
            self.base_url + path,
            data=data,
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            try:
                answer = json.loads(error.read().decode())
            except (OSError, ValueError):
                answer = {}
            if error.code in (400, 404, 409) and "error" in answer:
                raise SwitchRefused(answer["error"], answer.get("reason", ""), error.code) from None
            raise SwitchUnavailable(f"the switch answered {error.code}") from None
        except (OSError, ValueError) as error:
            raise SwitchUnavailable(str(error)) from None

    def agents(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/agents")["agents"]
        return result

    def queues(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/queues")["queues"]
        return result

    def agent_command(self, command: str, agent_id: str, **params: Any) -> dict[str, Any]:
        """An agent's command (login, sign_on, not_ready, ...); SwitchRefused with the
        switch's reason when it is refused."""
        quoted = urllib.parse.quote(agent_id, safe="")
        result: dict[str, Any] = self._post(f"/agents/{quoted}/{command}", params)
        return result

    def hang_up(self, call_id: str) -> None:
        self._post(f"/calls/{urllib.parse.quote(call_id, safe='')}/hangup")

    # --- call control (issue 6): each acts on the agent's current call; the switch answers with
    # the agent's view and the call's snapshot ("call"), or refuses (SwitchRefused: no_call,
    # not_talking, already_held, not_held, target_busy, target_not_ready, target_logged_out,
    # unknown_target, no_trunk, no_consult, consult_pending, not_registered, agent_busy).

    def hold(self, agent_id: str) -> dict[str, Any]:
        """The caller hears music on hold; the agent hears silence."""
        return self.agent_command("hold", agent_id)

    def unhold(self, agent_id: str) -> dict[str, Any]:
        return self.agent_command("unhold", agent_id)

    def transfer(self, agent_id: str, target: str, kind: str = "") -> dict[str, Any]:
        """Blind transfer to `target`; `kind` ("agent", "extension", "number") or "" for the
        switch to decide (an agent ID, else a registered extension, else an outside number)."""
        return self.agent_command("transfer", agent_id, **_target(target, kind))

    def consult(self, agent_id: str, target: str, kind: str = "") -> dict[str, Any]:
        """The caller is held (music), `target` rings; the agent talks with it privately."""
        return self.agent_command("consult", agent_id, **_target(target, kind))

    def complete_transfer(self, agent_id: str) -> dict[str, Any]:
        """Attended transfer: the caller and the consulted party talk; the agent leaves."""
        return self.agent_command("complete_transfer", agent_id)

    def conference(self, agent_id: str) -> dict[str, Any]:
        """Caller, agent and consulted party all hear each other."""
        return self.agent_command("conference", agent_id)

    def cancel_consult(self, agent_id: str) -> dict[str, Any]:
        """The consulted party is hung up; the caller is back with the agent."""
        return self.agent_command("cancel_consult", agent_id)

    def dial(self, agent_id: str, number: str) -> dict[str, Any]:
        """Click-to-dial: the agent's extension rings, then `number` through the trunk. The
        answer holds the new call's "call_id"."""
        return self.agent_command("dial", agent_id, number=number)

    def supervise(self, call_id: str, extension: str, mode: str, by: str) -> dict[str, Any]:
        """Ring the supervisor's `extension` into the call: mode "listen", "whisper" (only the
        agent hears the supervisor) or "barge"; again with another mode switches it."""
        quoted = urllib.parse.quote(call_id, safe="")
        result: dict[str, Any] = self._post(
            f"/calls/{quoted}/supervise", {"extension": extension, "mode": mode, "by": by}
        )
        return result

    def stop_supervising(self, call_id: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(call_id, safe="")
        result: dict[str, Any] = self._post(f"/calls/{quoted}/stop_supervising")
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/status")
        return result

    def registrations(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/registrations")["registrations"]
        return result

    def calls(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/calls")["calls"]
        return result

    async def events(self) -> AsyncIterator[Event]:
        """The switch's events, as they happen (reconnecting is the caller's choice)."""
        import aiohttp

        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with (
                aiohttp.ClientSession(headers=headers) as session,
                session.ws_connect(f"{self.base_url}/events", heartbeat=20) as ws,
            ):
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        yield event_from_dict(json.loads(message.data))
                    elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
        except aiohttp.ClientError as error:
            raise SwitchUnavailable(str(error)) from None

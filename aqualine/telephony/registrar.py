"""The registrar of the switch (RFC 3261 §10.3) and the digest gate every request passes.

:class:`SipAuth` checks a request's Authorization against the directory with
:class:`~aqualine.telephony.digest.DigestAuthenticator`: no or unusable credentials get a
401 challenge (``stale=true`` when only the nonce was old), a wrong password or an unknown
or disabled extension gets 403 (the same answer, so that nobody learns which numbers
exist), and every failure that looks like guessing is counted per source address by
:class:`~aqualine.telephony.digest.FailureLimiter` and logged on
``aqualine.switch.security`` in the fail2ban format; a blocked address gets 403 at once.

:class:`Registrar` keeps the bindings of extensions in memory: several contacts per
extension, expiry from the Contact's ``expires`` or the Expires header clamped to
[min, max] (423 below the minimum), ``Contact: *`` with ``Expires: 0`` to remove them all,
the Call-ID/CSeq ordering rule of step 7, and ``extension.registered`` /
``extension.unregistered`` events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aqualine.telephony.api.events import ExtensionRegistered, ExtensionUnregistered
from aqualine.telephony.digest import (
    AuthReason,
    DigestAuthenticator,
    DigestParseError,
    FailureLimiter,
    format_fail2ban_line,
    parse_credentials,
)
from aqualine.telephony.events import EventBus
from aqualine.telephony.ports import Directory
from aqualine.telephony.sip import (
    WILDCARD,
    NameAddr,
    Request,
    Response,
    SipParseError,
    SipUri,
    build_response,
    parse_uri,
    uris_equal,
)
from aqualine.telephony.sip.transport import Source, format_address

security_log = logging.getLogger("aqualine.switch.security")
log = logging.getLogger("aqualine.switch.registrar")

PasswordLookup = Callable[[str], Awaitable[str | None]]
Clock = Callable[[], float]

DEFAULT_EXPIRES = 3600
MAX_CONTACTS_PER_EXTENSION = 10
_CHALLENGE_AGAIN = frozenset(
    {
        AuthReason.MISSING,
        AuthReason.MALFORMED,
        AuthReason.WRONG_REALM,
        AuthReason.INVALID_NONCE,
        AuthReason.UNSUPPORTED_ALGORITHM,
        AuthReason.URI_MISMATCH,
        AuthReason.REPLAY,
        AuthReason.STALE_NONCE,
    }
)


@dataclass(frozen=True)
class AuthOutcome:
    """``username`` when the request is authenticated, else the ``response`` to refuse it."""

    username: str | None
    response: Response | None = None

    @property
    def ok(self) -> bool:
        return self.username is not None


class SipAuth:
    """Digest authentication of requests from extensions (and trunks with credentials)."""

    def __init__(
        self,
        authenticator: DigestAuthenticator,
        limiter: FailureLimiter,
        *,
        algorithms: Sequence[str] = ("SHA-256", "MD5"),
    ) -> None:
        self.authenticator = authenticator
        self.limiter = limiter
        self.algorithms = tuple(algorithms)
        self.algorithms_used: Counter[str] = Counter()  # successful checks per digest algorithm

    def challenge(self, request: Request, *, stale: bool = False) -> Response:
        values = self.authenticator.challenge(stale=stale, algorithms=self.algorithms)
        return build_response(request, 401, headers=[("WWW-Authenticate", v) for v in values])

    def refuse_if_blocked(self, request: Request, source: Source) -> Response | None:
        ip = source.address[0]
        if not self.limiter.is_blocked(ip):
            return None
        security_log.warning(
            format_fail2ban_line(ip=ip, user=_claimed_user(request), reason="blocked")
        )
        return build_response(request, 403, "Forbidden")

    async def check(
        self,
        request: Request,
        source: Source,
        *,
        lookup_password: PasswordLookup,
        expected_user: str | None,
    ) -> AuthOutcome:
        """Authenticate ``request``; ``expected_user`` is who it must be (None: anyone)."""
        blocked = self.refuse_if_blocked(request, source)
        if blocked is not None:
            return AuthOutcome(None, blocked)
        ip = source.address[0]
        value = self._our_credentials(request)
        if value is None:
            return AuthOutcome(None, self.challenge(request))
        username, digest_uri = _username_and_uri(value)
        password = await lookup_password(username) if username else None
        result = self.authenticator.verify(
            method=request.method,
            request_uri=_request_uri_as_written(request, digest_uri),
            authorization_header_value=value,
            lookup_password=lambda _user: password,
        )
        if result.ok:
            if expected_user is not None and result.username != expected_user:
                security_log.warning(
                    format_fail2ban_line(ip=ip, user=result.username, reason="not_authorized")
                )
                return AuthOutcome(None, build_response(request, 403, "Forbidden"))
            self.limiter.record_success(ip)
            self.algorithms_used[result.algorithm or "?"] += 1
            log.debug("%s authenticated as %s (%s)", ip, result.username, result.algorithm)
            return AuthOutcome(result.username)
        if result.counts_as_failure:
            security_log.warning(
                format_fail2ban_line(ip=ip, user=result.username, reason=result.reason)
            )
            if self.limiter.record_failure(ip):
                security_log.warning(
                    format_fail2ban_line(ip=ip, user=result.username, reason="blocked")
                )
                return AuthOutcome(None, build_response(request, 403, "Forbidden"))
        if result.reason in _CHALLENGE_AGAIN:
            return AuthOutcome(None, self.challenge(request, stale=result.stale))
        # A wrong password and an unknown or disabled extension look the same from outside.
        return AuthOutcome(None, build_response(request, 403, "Forbidden"))

    def _our_credentials(self, request: Request) -> str | None:
        values = request.headers.get_all("Authorization")
        for value in values:
            try:
                if parse_credentials(value).realm == self.authenticator.realm:
                    return value
            except DigestParseError:
                continue
        return values[0] if values else None


def _username_and_uri(value: str) -> tuple[str | None, str | None]:
    try:
        credentials = parse_credentials(value)
    except DigestParseError:
        return None, None
    return credentials.username, credentials.uri


def _request_uri_as_written(request: Request, digest_uri: str | None) -> str:
    """The digest ``uri`` when it names the Request-URI (we re-serialise the latter)."""
    if digest_uri is not None:
        try:
            if uris_equal(parse_uri(digest_uri), request.uri):
                return digest_uri
        except SipParseError:
            pass
    return str(request.uri)


def _claimed_user(request: Request) -> str | None:
    value = request.headers.get("Authorization")
    if value is not None:
        username, _ = _username_and_uri(value)
        if username:
            return username
    try:
        uri = request.from_addr.uri
    except SipParseError:
        return None
    return uri.user if isinstance(uri, SipUri) else None


@dataclass
class Binding:
    """One registered contact of an extension."""

    number: str
    contact: NameAddr
    expires_at: float
    call_id: str
    cseq: int
    source: str
    transport: str
    user_agent: str
    registered_at: datetime

    @property
    def uri(self) -> str:
        return str(self.contact.uri)

    def remaining(self, now: float) -> int:
        return max(0, round(self.expires_at - now))

    def header_value(self, now: float) -> str:
        params = self.contact.params.without("expires").with_("expires", str(self.remaining(now)))
        return str(NameAddr(self.contact.uri, self.contact.display_name, params))


class Registrar:
    """Bindings of extensions to contacts, kept in memory by the switch process."""

    def __init__(
        self,
        *,
        directory: Directory,
        bus: EventBus,
        auth: SipAuth,
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = DEFAULT_EXPIRES,
        max_contacts: int = MAX_CONTACTS_PER_EXTENSION,
        clock: Clock = time.monotonic,
    ) -> None:
        if not 0 < min_expires <= max_expires:
            raise ValueError("need 0 < min_expires <= max_expires")
        self.directory = directory
        self.bus = bus
        self.auth = auth
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.max_contacts = max_contacts
        self.clock = clock
        self._bindings: dict[str, list[Binding]] = {}

    # --- the directory ----------------------------------------------------------------------

    async def password_of(self, number: str) -> str | None:
        """The password of an enabled extension; None for unknown or disabled ones."""
        extension = await asyncio.to_thread(self.directory.extension, number)
        if extension is None or not extension.enabled:
            return None
        return extension.password

    # --- REGISTER ---------------------------------------------------------------------------

    async def handle(self, request: Request, source: Source) -> Response:
        """The final response to a (validated) REGISTER."""
        to_uri = request.to_addr.uri
        number = to_uri.user if isinstance(to_uri, SipUri) else None
        outcome = await self.auth.check(
            request, source, lookup_password=self.password_of, expected_user=number
        )
        if outcome.response is not None:
            return outcome.response
        if not number:
            return build_response(request, 404, "Not Found")
        return self._update(request, source, number)

    def _update(self, request: Request, source: Source, number: str) -> Response:
        now = self.clock()
        self._expire_number(number, now)
        current = self._bindings.get(number, [])
        contacts = request.contacts
        call_id = request.call_id
        cseq = request.cseq.number
        if contacts is WILDCARD:
            if request.expires != 0:
                return build_response(request, 400, "Contact * needs Expires: 0")
            if any(b.call_id == call_id and cseq <= b.cseq for b in current):
                return build_response(request, 500, "Out of order CSeq")
            for binding in current:
                self._publish_gone(binding, "unregistered")
            self._bindings.pop(number, None)
            return self._ok(request, number, now)
        assert isinstance(contacts, list)
        changes: list[tuple[NameAddr, int, Binding | None]] = []
        for contact in contacts:
            expires = contact.expires
            if expires is None:
                expires = request.expires
            if expires is None:
                expires = self.default_expires
            if 0 < expires < self.min_expires:
                return build_response(
                    request, 423, headers=[("Min-Expires", str(self.min_expires))]
                )
            expires = min(expires, self.max_expires)
            existing = next((b for b in current if uris_equal(b.contact.uri, contact.uri)), None)
            if existing is not None and existing.call_id == call_id and cseq <= existing.cseq:
                return build_response(request, 500, "Out of order CSeq")
            changes.append((contact, expires, existing))
        added = sum(1 for _, expires, existing in changes if existing is None and expires > 0)
        if len(current) + added > self.max_contacts:
            return build_response(request, 403, "Too many contacts")
        user_agent = request.headers.get("User-Agent") or ""
        for contact, expires, existing in changes:
            if expires == 0:
                if existing is not None:
                    current.remove(existing)
                    self._publish_gone(existing, "unregistered")
                continue
            binding = Binding(
                number=number,
                contact=contact,
                expires_at=now + expires,
                call_id=call_id,
                cseq=cseq,
                source=format_address(source.address),
                transport=source.transport,
                user_agent=user_agent,
                registered_at=datetime.now(UTC),
            )
            if existing is not None:
                current[current.index(existing)] = binding
            else:
                current.append(binding)
            self.bus.publish(
                ExtensionRegistered(
                    number=number,
                    contact=binding.uri,
                    source=binding.source,
                    expires=expires,
                    user_agent=user_agent,
                )
            )
            log.info("extension %s registered %s for %d s", number, binding.uri, expires)
        if current:
            self._bindings[number] = current
        else:
            self._bindings.pop(number, None)
        return self._ok(request, number, now)

    def _ok(self, request: Request, number: str, now: float) -> Response:
        headers = [("Contact", b.header_value(now)) for b in self._bindings.get(number, [])]
        headers.append(("Date", format_datetime(datetime.now(UTC), usegmt=True)))
        return build_response(request, 200, headers=headers)

    def _publish_gone(self, binding: Binding, reason: str) -> None:
        log.info("extension %s: contact %s %s", binding.number, binding.uri, reason)
        self.bus.publish(
            ExtensionUnregistered(number=binding.number, contact=binding.uri, reason=reason)
        )

    # --- housekeeping and queries -----------------------------------------------------------

    def _expire_number(self, number: str, now: float) -> int:
        bindings = self._bindings.get(number)
        if not bindings:
            return 0
        alive = [b for b in bindings if b.expires_at > now]
        for binding in bindings:
            if binding.expires_at <= now:
                self._publish_gone(binding, "expired")
        if alive:
            self._bindings[number] = alive
        else:
            del self._bindings[number]
        return len(bindings) - len(alive)

    def expire(self) -> int:
        """Drop the bindings whose time is up (publishing their end); how many went."""
        now = self.clock()
        return sum(self._expire_number(number, now) for number in list(self._bindings))

    def contacts(self, number: str) -> list[Binding]:
        now = self.clock()
        return [b for b in self._bindings.get(number, []) if b.expires_at > now]

    @property
    def registered_count(self) -> int:
        """How many extensions have at least one live contact."""
        now = self.clock()
        return sum(1 for bs in self._bindings.values() if any(b.expires_at > now for b in bs))

    def registrations(self) -> list[dict[str, Any]]:
        """A snapshot for the status API: one entry per live contact."""
        now = self.clock()
        return [
            {
                "number": b.number,
                "contact": b.uri,
                "source": b.source,
                "transport": b.transport,
                "expires": b.remaining(now),
                "user_agent": b.user_agent,
                "registered_at": b.registered_at.isoformat(),
            }
            for number in sorted(self._bindings)
            for b in self._bindings[number]
            if b.expires_at > now
        ]

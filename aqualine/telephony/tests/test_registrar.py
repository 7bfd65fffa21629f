"""The registrar without sockets: bindings, expiry, ordering, digest and the rate limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from aqualine.telephony.digest import (
    FAIL2BAN_FAILREGEX,
    DigestAuthenticator,
    FailureLimiter,
    answer_challenge,
    parse_challenge,
)
from aqualine.telephony.registrar import Registrar, SipAuth
from aqualine.telephony.sip import Request, Response, new_branch, parse_message
from aqualine.telephony.sip.transport import Source
from aqualine.telephony.tests.fakes import MemoryDirectory, RecordingBus

PASSWORD = "secret-8001"
PHONE = Source("UDP", ("192.0.2.10", 5062))


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    registrar: Registrar
    bus: RecordingBus
    clock: Clock
    limiter: FailureLimiter
    cseq: dict[str, int] = field(default_factory=dict)


def setup(*, max_failures: int = 3, nonce_ttl: float = 30.0) -> Setup:
    clock = Clock()
    bus = RecordingBus()
    limiter = FailureLimiter(max_failures=max_failures, window=60, block=300, clock=clock)
    auth = SipAuth(
        DigestAuthenticator("aqualine", b"0123456789abcdef0123", nonce_ttl=nonce_ttl, clock=clock),
        limiter,
        algorithms=("SHA-256", "MD5"),
    )
    registrar = Registrar(
        directory=MemoryDirectory(),
        bus=bus,
        auth=auth,
        min_expires=60,
        max_expires=3600,
        clock=clock,
    )
    return Setup(registrar, bus, clock, limiter)


def register_request(
    number: str = "8001",
    *,
    contacts: Iterable[str] = ("<sip:8001@192.0.2.10:5062>",),
    expires: int | None = None,
    call_id: str = "reg-1@192.0.2.10",
    cseq: int = 1,
    authorization: str | None = None,
) -> Request:
    lines = [
        "REGISTER sip:aqualine.example SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.10:5062;branch={new_branch()}",
        "Max-Forwards: 70",
        f"From: <sip:{number}@aqualine.example>;tag=f1",
        f"To: <sip:{number}@aqualine.example>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        *[f"Contact: {c}" for c in contacts],
        "User-Agent: TestPhone/1.0",
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, Request)
    return message


def handle(s: Setup, request: Request, source: Source = PHONE) -> Response:
    return asyncio.run(s.registrar.handle(request, source))


def credentials(
    challenge: Response,
    *,
    username: str = "8001",
    password: str = PASSWORD,
    algorithm: str = "SHA-256",
    nc: int = 1,
) -> str:
    value = next(
        v
        for v in challenge.headers.get_all("WWW-Authenticate")
        if parse_challenge(v).algorithm == algorithm
    )
    return answer_challenge(
        www_authenticate_value=value,
        method="REGISTER",
        uri="sip:aqualine.example",
        username=username,
        password=password,
        nc=nc,
    )


def register(
    s: Setup, number: str = "8001", password: str = PASSWORD, **options: object
) -> Response:
    """REGISTER, get challenged, answer: the final response."""
    call_id = str(options.pop("call_id", "reg-1@192.0.2.10"))
    cseq = s.cseq.get(call_id, 0) + 1
    challenge = handle(s, register_request(number, call_id=call_id, cseq=cseq, **options))  # type: ignore[arg-type]
    assert challenge.status == 401
    authorization = credentials(challenge, username=number, password=password)
    s.cseq[call_id] = cseq + 1
    return handle(
        s,
        register_request(
            number,
            call_id=call_id,
            cseq=cseq + 1,
            authorization=authorization,
            **options,  # type: ignore[arg-type]
        ),
    )


def contact_expires(response: Response) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in response.headers.values("Contact"):
        uri, _, params = value.partition(">")
        out[uri.lstrip("<")] = int(params.split("expires=")[1])
    return out


def test_a_register_without_credentials_is_challenged_with_both_algorithms() -> None:
    s = setup()
    response = handle(s, register_request())

    assert response.status == 401
    algorithms = [
        parse_challenge(v).algorithm for v in response.headers.get_all("WWW-Authenticate")
    ]
    assert algorithms == ["SHA-256", "MD5"]


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_the_right_password_registers_with_either_algorithm(algorithm: str) -> None:
    s = setup()
    challenge = handle(s, register_request())
    response = handle(
        s, register_request(cseq=2, authorization=credentials(challenge, algorithm=algorithm))
    )

    assert response.status == 200
    assert contact_expires(response) == {"sip:8001@192.0.2.10:5062": 3600}
    [event] = s.bus.of_type("extension.registered")
    assert (event.number, event.source, event.user_agent) == (
        "8001",
        "192.0.2.10:5062",
        "TestPhone/1.0",
    )


def test_expires_comes_from_the_contact_then_the_header_and_is_clamped() -> None:
    s = setup()
    response = register(
        s,
        contacts=["<sip:a@192.0.2.10>;expires=120", "<sip:b@192.0.2.10>"],
        expires=99999,
    )

    assert response.status == 200
    assert contact_expires(response) == {"sip:a@192.0.2.10": 120, "sip:b@192.0.2.10": 3600}


def test_an_interval_below_the_minimum_gets_423_with_min_expires() -> None:
    s = setup()
    response = register(s, expires=30)

    assert response.status == 423
    assert response.headers.get("Min-Expires") == "60"
    assert s.registrar.registrations() == []


def test_several_contacts_are_kept_and_listed_with_their_remaining_time() -> None:
    s = setup()
    register(s, contacts=["<sip:desk@192.0.2.10>"], expires=600, call_id="desk")
    s.clock.now += 100
    response = register(s, contacts=["<sip:soft@192.0.2.11>"], expires=300, call_id="soft")

    assert contact_expires(response) == {"sip:desk@192.0.2.10": 500, "sip:soft@192.0.2.11": 300}
    assert len(s.registrar.registrations()) == 2
    assert s.registrar.registered_count == 1


def test_expires_zero_removes_one_contact_and_star_removes_them_all() -> None:
    s = setup()
    register(s, contacts=["<sip:a@192.0.2.10>", "<sip:b@192.0.2.10>"], expires=600)
    response = register(s, contacts=["<sip:a@192.0.2.10>"], expires=0)
    assert contact_expires(response) == {"sip:b@192.0.2.10": 600}

    response = register(s, contacts=["*"], expires=0)

    assert response.status == 200
    assert response.headers.values("Contact") == []
    gone = s.bus.of_type("extension.unregistered")
    assert [(e.contact, e.reason) for e in gone] == [
        ("sip:a@192.0.2.10", "unregistered"),
        ("sip:b@192.0.2.10", "unregistered"),
    ]


def test_star_without_expires_zero_is_a_bad_request() -> None:
    s = setup()
    assert register(s, contacts=["*"], expires=60).status == 400


def test_a_register_with_an_old_cseq_on_the_same_call_id_is_refused() -> None:
    s = setup()
    challenge = handle(s, register_request(cseq=10))
    ok = handle(s, register_request(cseq=11, authorization=credentials(challenge)))
    assert ok.status == 200
    challenge = handle(s, register_request(cseq=12))
    stale = handle(
        s,
        register_request(
            cseq=5, contacts=["<sip:8001@192.0.2.10:5062>"], authorization=credentials(challenge)
        ),
    )

    assert stale.status == 500
    assert s.registrar.registrations()[0]["expires"] == 3600


def test_a_new_call_id_may_update_a_binding_with_any_cseq() -> None:
    s = setup()
    register(s, call_id="first", expires=600)
    response = register(s, call_id="second", expires=900)

    assert response.status == 200
    assert contact_expires(response) == {"sip:8001@192.0.2.10:5062": 900}


def test_bindings_expire_and_are_announced() -> None:
    s = setup()
    register(s, expires=60)
    s.clock.now += 59
    assert s.registrar.expire() == 0
    s.clock.now += 2

    assert s.registrar.expire() == 1
    assert s.registrar.registrations() == []
    assert [e.reason for e in s.bus.of_type("extension.unregistered")] == ["expired"]


def test_a_replayed_authorization_is_challenged_again() -> None:
    s = setup()
    challenge = handle(s, register_request())
    authorization = credentials(challenge)
    assert handle(s, register_request(cseq=2, authorization=authorization)).status == 200

    replay = handle(s, register_request(cseq=3, authorization=authorization))

    assert replay.status == 401


def test_an_old_nonce_gets_a_stale_challenge_and_then_registers() -> None:
    s = setup(nonce_ttl=30)
    challenge = handle(s, register_request())
    s.clock.now += 31
    stale = handle(s, register_request(cseq=2, authorization=credentials(challenge)))

    assert stale.status == 401
    assert all("stale=true" in v for v in stale.headers.get_all("WWW-Authenticate"))
    retried = handle(s, register_request(cseq=3, authorization=credentials(stale)))
    assert retried.status == 200


@pytest.mark.parametrize(
    ("number", "password"),
    [("8001", "wrong"), ("8003", "secret-8003"), ("9999", "anything")],
    ids=["wrong password", "disabled extension", "unknown extension"],
)
def test_bad_credentials_disabled_and_unknown_extensions_all_get_403(
    number: str, password: str
) -> None:
    s = setup()
    assert register(s, number, password).status == 403


def test_credentials_of_another_extension_are_forbidden() -> None:
    s = setup()
    challenge = handle(s, register_request("8002"))
    response = handle(s, register_request("8002", cseq=2, authorization=credentials(challenge)))

    assert response.status == 403


def test_repeated_failures_block_the_address_and_log_fail2ban_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = setup(max_failures=3)
    caplog.set_level(logging.WARNING, logger="aqualine.switch.security")
    for _ in range(3):
        register(s, password="guess")

    blocked = handle(s, register_request())
    other_phone = handle(s, register_request(), Source("UDP", ("192.0.2.99", 5060)))

    assert blocked.status == 403
    assert other_phone.status == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "aqualine.switch.security"]
    assert lines[0] == "SIP auth failure from 192.0.2.10 user 8001 reason bad_response"
    assert lines[-1].endswith("reason blocked")
    import re

    pattern = FAIL2BAN_FAILREGEX.replace("<HOST>", r"(?P<host>\S+)")
    assert all(re.search(pattern, line) for line in lines)

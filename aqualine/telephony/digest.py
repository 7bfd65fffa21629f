"""HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760).

Server side (registrar, UAS): :class:`DigestAuthenticator` writes the WWW-Authenticate
challenges and checks Authorization header values.  Its nonces are stateless: a timestamp
and the algorithms offered, signed with HMAC-SHA-256 under a secret, so any nonce can be
checked for forgery and age without a database.  Only the nonce-counts of nonces in use
are remembered, in a bounded in-memory table, to refuse replays.

Client side (a trunk that challenges us): :func:`answer_challenge` computes the
Authorization value for a WWW-Authenticate (or Proxy-Authenticate) value;
:func:`choose_challenge` picks the best of several.

:class:`FailureLimiter` counts failed attempts per source address and blocks an address
that fails too often; :func:`format_fail2ban_line` writes the log line that a fail2ban
filter (:data:`FAIL2BAN_FAILREGEX`) matches.

Supported: algorithms MD5 and SHA-256 (and their -sess forms on the client side), qop
``auth`` and the RFC 2069 form without qop.  Not supported: qop ``auth-int``,
``userhash``, ``username*`` (answered as malformed), SHA-512-256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import threading
import time
import urllib.parse
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "FAIL2BAN_FAILREGEX",
    "FAIL2BAN_LINE",
    "FAILURE_REASONS",
    "SERVER_ALGORITHMS",
    "AuthReason",
    "AuthResult",
    "DigestAuthenticator",
    "DigestChallenge",
    "DigestCredentials",
    "DigestError",
    "DigestParseError",
    "FailureLimiter",
    "answer_challenge",
    "choose_challenge",
    "compute_ha1",
    "compute_response",
    "format_fail2ban_line",
    "parse_challenge",
    "parse_credentials",
    "parse_digest",
]

Clock = Callable[[], float]


class DigestError(ValueError):
    """A challenge or credentials that cannot be used (unsupported algorithm or qop...)."""


class DigestParseError(DigestError):
    """A Digest header value does not follow the grammar (or lacks a required parameter)."""


# --- algorithms --------------------------------------------------------------------------


def _encode(text: str) -> bytes:
    # Header values may carry undecodable bytes as surrogate escapes: give them back as is.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class _Algorithm:
    name: str
    hash: Callable[[bytes], str]
    session: bool
    hex_length: int


_ALGORITHMS = {
    algorithm.name.casefold(): algorithm
    for algorithm in (
        _Algorithm("MD5", _md5, False, 32),
        _Algorithm("MD5-sess", _md5, True, 32),
        _Algorithm("SHA-256", _sha256, False, 64),
        _Algorithm("SHA-256-sess", _sha256, True, 64),
    )
}
#: What the server offers and accepts, most preferred first (RFC 7616 §3.7).
SERVER_ALGORITHMS = ("SHA-256", "MD5")


def _algorithm(name: str) -> _Algorithm:
    try:
        return _ALGORITHMS[name.casefold()]
    except KeyError:
        raise DigestError(f"unsupported digest algorithm {name!r}") from None


def compute_ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password) in hex - what a directory may store instead of passwords.

    For the -sess algorithms this is the part before the nonce and cnonce are mixed in.
    """
    return _algorithm(algorithm).hash(_encode(f"{username}:{realm}:{password}"))


def compute_response(
    *,
    algorithm: str,
    ha1: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The request-digest of RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1 (qop ``auth`` or none).

    ``nc`` is the nonce-count exactly as written in the header (8 hex digits).
    """
    algo = _algorithm(algorithm)
    if algo.session:
        if cnonce is None:
            raise DigestError(f"{algo.name} needs a cnonce")
        ha1 = algo.hash(_encode(f"{ha1}:{nonce}:{cnonce}"))
    ha2 = algo.hash(_encode(f"{method}:{uri}"))
    if qop is None:
        return algo.hash(_encode(f"{ha1}:{nonce}:{ha2}"))
    if qop.casefold() != "auth":
        raise DigestError(f"unsupported qop {qop!r}")
    if nc is None or cnonce is None:
        raise DigestError("qop=auth needs nc and cnonce")
    return algo.hash(_encode(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))


# --- header values -----------------------------------------------------------------------

_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_WHITESPACE = " \t"
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NC = re.compile(r"[0-9a-fA-F]{1,8}", re.ASCII)
_HEX = re.compile(r"[0-9a-fA-F]+", re.ASCII)


def parse_digest(value: str) -> dict[str, str]:
    """Split ``Digest name=value, name="quoted \\"value\\"", ...`` into a dict.

    Parameter names are lowercased; quoted values are unescaped.  Raises
    :class:`DigestParseError` for another scheme, a duplicated parameter, an unterminated
    quoted string, a control character or anything else outside the grammar.
    """
    if _FORBIDDEN.search(value):
        raise DigestParseError("control character in header value")
    length = len(value)
    pos = 0

    def skip(chars: str) -> None:
        nonlocal pos
        while pos < length and value[pos] in chars:
            pos += 1

    def token() -> str:
        nonlocal pos
        start = pos
        while pos < length and value[pos] in _TOKEN_CHARS:
            pos += 1
        return value[start:pos]

    skip(_WHITESPACE)
    scheme = token()
    if scheme.casefold() != "digest":
        raise DigestParseError(f"not a Digest header value (scheme {scheme[:20]!r})")
    if pos < length and value[pos] not in _WHITESPACE:
        raise DigestParseError("no space after the scheme")

    params: dict[str, str] = {}
    while True:
        skip(_WHITESPACE + ",")
        if pos >= length:
            return params
        name = token().lower()
        if not name:
            raise DigestParseError(f"parameter name expected at {pos}")
        skip(_WHITESPACE)
        if pos >= length or value[pos] != "=":
            raise DigestParseError(f"'=' expected after {name!r}")
        pos += 1
        skip(_WHITESPACE)
        if pos < length and value[pos] == '"':
            pos += 1
            chars: list[str] = []
            while True:
                if pos >= length:
                    raise DigestParseError(f"unterminated quoted value of {name!r}")
                char = value[pos]
                pos += 1
                if char == '"':
                    break
                if char == "\\":
                    if pos >= length:
                        raise DigestParseError(f"unterminated quoted value of {name!r}")
                    char = value[pos]
                    pos += 1
                chars.append(char)
            param = "".join(chars)
        else:
            start = pos
            while pos < length and value[pos] not in _WHITESPACE + ',"':
                pos += 1
            param = value[start:pos]
            if not param:
                raise DigestParseError(f"value expected for {name!r}")
        if name in params:
            raise DigestParseError(f"parameter {name!r} given twice")
        params[name] = param
        skip(_WHITESPACE)
        if pos < length and value[pos] != ",":
            raise DigestParseError(f"',' expected after the value of {name!r}")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format(params: Iterable[tuple[str, str, bool]]) -> str:
    """``Digest`` and the parameters, each (name, value, quoted)."""
    return "Digest " + ", ".join(
        f"{name}={_quote(value) if quoted else value}" for name, value, quoted in params
    )


def _require(params: dict[str, str], *names: str) -> None:
    missing = [name for name in names if name not in params]
    if missing:
        raise DigestParseError(f"missing parameter(s): {', '.join(missing)}")


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """A parsed WWW-Authenticate / Proxy-Authenticate Digest value."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> DigestChallenge:
    """Parse a challenge.  Raises :class:`DigestParseError`."""
    params = parse_digest(value)
    _require(params, "realm", "nonce")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    return DigestChallenge(
        realm=params["realm"],
        nonce=params["nonce"],
        algorithm=params.get("algorithm", "MD5"),
        qop=qop,
        opaque=params.get("opaque"),
        stale=params.get("stale", "").casefold() == "true",
    )


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """A parsed Authorization / Proxy-Authorization Digest value.

    ``nc`` and ``qop`` are as written, since they enter the hash; ``nonce_count`` is the
    value of ``nc``.
    """

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None

    @property
    def nonce_count(self) -> int | None:
        return int(self.nc, 16) if self.nc is not None else None


def parse_credentials(value: str) -> DigestCredentials:
    """Parse credentials.  Raises :class:`DigestParseError`, also for a missing parameter."""
    params = parse_digest(value)
    _require(params, "username", "realm", "nonce", "uri", "response")
    if "username*" in params or params.get("userhash", "false").casefold() != "false":
        raise DigestParseError("username* and userhash are not supported")
    qop = params.get("qop")
    nc = params.get("nc")
    if qop is not None:
        _require(params, "nc", "cnonce")
    if nc is not None and not _NC.fullmatch(nc):
        raise DigestParseError(f"bad nonce-count {nc[:20]!r}")
    return DigestCredentials(
        username=params["username"],
        realm=params["realm"],
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"],
        algorithm=params.get("algorithm", "MD5"),
        qop=qop,
        nc=nc,
        cnonce=params.get("cnonce"),
        opaque=params.get("opaque"),
    )


# --- client ------------------------------------------------------------------------------


def _check_header_text(**values: str) -> None:
    for name, text in values.items():
        if _FORBIDDEN.search(text):
            raise DigestError(f"{name} holds a control character")


def answer_challenge(
    *,
    www_authenticate_value: str,
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """The Authorization (or Proxy-Authorization) value answering a challenge.

    Uses qop=auth when the challenge offers it, the RFC 2069 form when it offers no qop.
    ``nc`` counts the requests made with this nonce (start at 1, add 1 each time the
    nonce is reused).  Raises :class:`DigestParseError` for a malformed challenge and
    :class:`DigestError` for one we cannot answer (algorithm, qop auth-int only).
    """
    challenge = parse_challenge(www_authenticate_value)
    algo = _algorithm(challenge.algorithm)
    _check_header_text(method=method, uri=uri, username=username)
    if not 0 < nc < 2**32:
        raise DigestError("nc must be between 1 and 2**32 - 1")
    if challenge.qop and "auth" not in challenge.qop:
        raise DigestError(f"unsupported qop {','.join(challenge.qop)!r}")
    qop = "auth" if challenge.qop else None
    if (qop is not None or algo.session) and cnonce is None:
        cnonce = secrets.token_hex(8)
    nc_text = f"{nc:08x}" if qop is not None else None
    response = compute_response(
        algorithm=algo.name,
        ha1=compute_ha1(username, challenge.realm, password, algo.name),
        nonce=challenge.nonce,
        method=method,
        uri=uri,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce,
    )
    params: list[tuple[str, str, bool]] = [
        ("username", username, True),
        ("realm", challenge.realm, True),
        ("nonce", challenge.nonce, True),
        ("uri", uri, True),
        ("response", response, True),
        ("algorithm", algo.name, False),
    ]
    if cnonce is not None:
        params.append(("cnonce", cnonce, True))
    if challenge.opaque is not None:
        params.append(("opaque", challenge.opaque, True))
    if qop is not None and nc_text is not None:
        params += [("qop", qop, False), ("nc", nc_text, False)]
    return _format(params)


def choose_challenge(values: Iterable[str]) -> str:
    """Pick, among several challenges (RFC 8760 §2.4), the one to answer.

    Prefers SHA-256 over MD5 (then the -sess forms), whatever the order of the headers;
    challenges that are malformed or use something we lack are skipped.  Raises
    :class:`DigestError` when none is usable.
    """
    preference = ["sha-256", "md5", "sha-256-sess", "md5-sess"]
    best: tuple[int, str] | None = None
    for value in values:
        try:
            challenge = parse_challenge(value)
        except DigestParseError:
            continue
        rank = preference.index(k) if (k := challenge.algorithm.casefold()) in preference else -1
        if rank < 0 or (challenge.qop and "auth" not in challenge.qop):
            continue
        if best is None or rank < best[0]:
            best = (rank, value)
    if best is None:
        raise DigestError("no challenge we can answer")
    return best[1]


# --- server ------------------------------------------------------------------------------


class AuthReason(StrEnum):
    """Why :meth:`DigestAuthenticator.verify` accepted or refused credentials."""

    OK = "ok"
    MISSING = "missing"  # no credentials: challenge
    MALFORMED = "malformed"  # unparsable, or a required parameter missing
    WRONG_REALM = "wrong_realm"
    INVALID_NONCE = "invalid_nonce"  # not one of ours (forged, tampered, other secret)
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"  # not offered with this nonce
    URI_MISMATCH = "uri_mismatch"
    UNKNOWN_USER = "unknown_user"
    BAD_RESPONSE = "bad_response"  # wrong password
    STALE_NONCE = "stale_nonce"  # right password, old nonce: re-challenge with stale=true
    REPLAY = "replay"  # nonce-count not increasing, or a no-qop nonce used again


#: Reasons that suggest guessing rather than a phone's normal life (count them).
FAILURE_REASONS = frozenset(
    {AuthReason.MALFORMED, AuthReason.WRONG_REALM, AuthReason.UNKNOWN_USER, AuthReason.BAD_RESPONSE}
)


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The outcome of a check.  Whatever the reason, a refused request is challenged again."""

    reason: AuthReason
    username: str | None = None
    algorithm: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is AuthReason.OK

    @property
    def stale(self) -> bool:
        """Re-challenge with ``stale=True``: the client retries without asking its user."""
        return self.reason is AuthReason.STALE_NONCE

    @property
    def counts_as_failure(self) -> bool:
        """Whether to feed this to :meth:`FailureLimiter.record_failure`."""
        return self.reason in FAILURE_REASONS


_NONCE_LAYOUT = struct.Struct(">qB8s")  # issued (ms), algorithms offered (bit set), random
_NONCE_MAC_LENGTH = 16
_NONCE_TEXT = re.compile(r"[A-Za-z0-9_-]{44}")  # URL-safe base64 of 33 bytes, no padding
_ALGORITHM_BITS = {"MD5": 1, "SHA-256": 2}
_CLOCK_SKEW = 1.0  # seconds a nonce may seem to come from the future
_NO_QOP = -1  # nonce-count recorded for a nonce used in the RFC 2069 form

CountCheck = Literal["ok", "replay", "forgotten"]


class _NonceCounts:
    """The last nonce-count seen per nonce, for nonces still within their lifetime.

    Bounded: when full, the least recently used nonce is dropped and every nonce issued no
    later than it counts as "forgotten" (its client is re-challenged, with stale=true)
    rather than open to replay.
    """

    def __init__(self, *, capacity: int, ttl: float) -> None:
        self._capacity = capacity
        self._ttl = ttl
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._horizon = float("-inf")
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_record(
        self, nonce: str, *, issued: float, count: int | None, now: float
    ) -> CountCheck:
        count = _NO_QOP if count is None else count
        with self._lock:
            while self._seen:
                oldest = next(iter(self._seen.values()))
                if oldest[1] + self._ttl >= now:
                    break
                self._seen.popitem(last=False)  # expired: its nonce is refused as stale anyway
            entry = self._seen.get(nonce)
            if entry is None:
                if issued <= self._horizon:
                    return "forgotten"
            elif count == _NO_QOP or entry[0] == _NO_QOP or count <= entry[0]:
                return "replay"
            self._seen[nonce] = (count, issued)
            self._seen.move_to_end(nonce)
            while len(self._seen) > self._capacity:
                _, (_, dropped_issued) = self._seen.popitem(last=False)
                self._horizon = max(self._horizon, dropped_issued)
            return "ok"


@dataclass(frozen=True, slots=True)
class _Nonce:
    issued: float
    algorithms: frozenset[str]


class DigestAuthenticator:
    """Challenges requests and checks their credentials for one realm.

    ``secret`` signs the nonces (at least 16 random bytes; keep it across restarts so that
    nonces survive them, and share it between nodes that share the realm).  ``clock`` is
    a seconds counter such as :func:`time.monotonic` (the default: per machine) or
    :func:`time.time` (when several machines check each other's nonces).
    """

    def __init__(
        self,
        realm: str,
        secret: bytes,
        nonce_ttl: float = 300.0,
        clock: Clock = time.monotonic,
        *,
        max_tracked_nonces: int = 65536,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the nonce secret must be at least 16 bytes")
        if _FORBIDDEN.search(realm) or not realm:
            raise ValueError("bad realm")
        if nonce_ttl <= 0 or max_tracked_nonces < 1:
            raise ValueError("nonce_ttl and max_tracked_nonces must be positive")
        self.realm = realm
        self.nonce_ttl = nonce_ttl
        self._secret = secret
        self._clock = clock
        self._counts = _NonceCounts(capacity=max_tracked_nonces, ttl=nonce_ttl)
        self._opaque = self._mac(b"opaque").hex()[:32]

    # nonces

    def _mac(self, payload: bytes) -> bytes:
        message = b"aqualine-digest\x00" + _encode(self.realm) + b"\x00" + payload
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_NONCE_MAC_LENGTH]

    def _make_nonce(self, algorithms: Sequence[str]) -> str:
        bits = 0
        for name in algorithms:
            bits |= _ALGORITHM_BITS[_algorithm(name).name]
        issued = round(self._clock() * 1000)
        payload = _NONCE_LAYOUT.pack(issued, bits, secrets.token_bytes(8))
        raw = payload + self._mac(payload)
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def _read_nonce(self, nonce: str) -> _Nonce | None:
        if not _NONCE_TEXT.fullmatch(nonce):
            return None
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            return None
        payload, mac = raw[: _NONCE_LAYOUT.size], raw[_NONCE_LAYOUT.size :]
        if len(raw) != _NONCE_LAYOUT.size + _NONCE_MAC_LENGTH or not hmac.compare_digest(
            mac, self._mac(payload)
        ):
            return None
        issued_ms, bits, _ = _NONCE_LAYOUT.unpack(payload)
        names = frozenset(name for name, bit in _ALGORITHM_BITS.items() if bits & bit)
        return _Nonce(issued_ms / 1000, names)

    # the two halves

    def challenge(
        self, *, stale: bool = False, algorithms: Sequence[str] = SERVER_ALGORITHMS
    ) -> list[str]:
        """WWW-Authenticate values, one per algorithm in order of preference.

        All share one fresh nonce.  Old phones that only read the first header and lack
        SHA-256 need ``algorithms=("MD5",)``.
        """
        names = [_algorithm(name).name for name in algorithms]
        if not names or any(name not in _ALGORITHM_BITS for name in names):
            raise ValueError(f"algorithms must be among {SERVER_ALGORITHMS}")
        nonce = self._make_nonce(names)
        values = []
        for name in dict.fromkeys(names):
            params = [
                ("realm", self.realm, True),
                ("nonce", nonce, True),
                ("opaque", self._opaque, True),
                ("algorithm", name, False),
                ("qop", "auth", True),
            ]
            if stale:
                params.append(("stale", "true", False))
            values.append(_format(params))
        return values

    def verify(
        self,
        *,
        method: str,
        request_uri: str,
        authorization_header_value: str | None,
        lookup_password: Callable[[str], str | None] | None = None,
        lookup_ha1: Callable[[str, str], str | None] | None = None,
    ) -> AuthResult:
        """Check an Authorization (or Proxy-Authorization) value.

        Give exactly one of ``lookup_password(username)`` and ``lookup_ha1(username,
        algorithm)`` (``algorithm`` is "MD5" or "SHA-256"; the HA1 is
        :func:`compute_ha1` for this realm).  Both return None for an unknown user.

        ``request_uri`` is the Request-URI of the request as written; the credentials'
        ``uri`` must be the very same string (RFC 3261 §22.4 lets a proxy rewrite the
        Request-URI of a request; we sit at the edge, so an exact match is asked).

        Never raises for any header value; the reason of a refusal is in the result.
        """
        if (lookup_password is None) == (lookup_ha1 is None):
            raise TypeError("give exactly one of lookup_password and lookup_ha1")
        if authorization_header_value is None or not authorization_header_value.strip():
            return AuthResult(AuthReason.MISSING)
        try:
            creds = parse_credentials(authorization_header_value)
        except DigestParseError:
            return AuthResult(AuthReason.MALFORMED)
        user = creds.username

        def refuse(reason: AuthReason) -> AuthResult:
            return AuthResult(reason, username=user, algorithm=creds.algorithm)

        if creds.realm != self.realm:
            return refuse(AuthReason.WRONG_REALM)
        if creds.qop is not None and creds.qop.casefold() != "auth":
            return refuse(AuthReason.MALFORMED)
        nonce = self._read_nonce(creds.nonce)
        if nonce is None or (creds.opaque is not None and creds.opaque != self._opaque):
            return refuse(AuthReason.INVALID_NONCE)
        now = self._clock()
        if nonce.issued > now + _CLOCK_SKEW:
            return refuse(AuthReason.INVALID_NONCE)
        algo = _ALGORITHMS.get(creds.algorithm.casefold())
        if algo is None or algo.name not in nonce.algorithms:
            return refuse(AuthReason.UNSUPPORTED_ALGORITHM)
        if creds.uri != request_uri:
            return refuse(AuthReason.URI_MISMATCH)

        ha1: str | None = None
        if lookup_ha1 is not None:
            ha1 = lookup_ha1(user, algo.name)
        elif lookup_password is not None:
            password = lookup_password(user)
            ha1 = None if password is None else compute_ha1(user, self.realm, password, algo.name)
        known = ha1 is not None
        # An unknown user costs the same work as a known one.
        expected = compute_response(
            algorithm=algo.name,
            ha1=ha1 if ha1 is not None else "0" * algo.hex_length,
            nonce=creds.nonce,
            method=method,
            uri=creds.uri,
            qop=creds.qop,
            nc=creds.nc,
            cnonce=creds.cnonce,
        )
        given = creds.response.lower()
        matches = (
            len(given) == algo.hex_length
            and _HEX.fullmatch(given) is not None
            and hmac.compare_digest(expected, given)
        )
        if not known:
            return refuse(AuthReason.UNKNOWN_USER)
        if not matches:
            return refuse(AuthReason.BAD_RESPONSE)
        if now - nonce.issued > self.nonce_ttl:
            return refuse(AuthReason.STALE_NONCE)
        # Without qop the nonce-count is not in the hash: such a nonce is good for one use.
        count = creds.nonce_count if creds.qop is not None else None
        verdict = self._counts.check_and_record(
            creds.nonce, issued=nonce.issued, count=count, now=now
        )
        if verdict == "replay":
            return refuse(AuthReason.REPLAY)
        if verdict == "forgotten":
            return refuse(AuthReason.STALE_NONCE)
        return AuthResult(AuthReason.OK, username=user, algorithm=algo.name)


# --- failed attempts ---------------------------------------------------------------------

#: The log line for a failed attempt; keep it in step with FAIL2BAN_FAILREGEX.
FAIL2BAN_LINE = "SIP auth failure from {ip} user {user} reason {reason}"
#: The ``failregex`` of a fail2ban filter matching :data:`FAIL2BAN_LINE`.
FAIL2BAN_FAILREGEX = r"SIP auth failure from <HOST> user \S+ reason \S+$"
_LOG_FIELD_LENGTH = 64


def _log_field(text: str) -> str:
    # Percent-encode what could break the line (spaces, controls, non-ASCII): the user name
    # comes from the attacker.
    quoted = urllib.parse.quote(_encode(text), safe="@.:-_+!~*'()[]")
    if len(quoted) > _LOG_FIELD_LENGTH:
        quoted = quoted[:_LOG_FIELD_LENGTH] + "..."
    return quoted or "-"


def format_fail2ban_line(*, ip: str, user: str | None, reason: AuthReason | str) -> str:
    """The :data:`FAIL2BAN_LINE` for one failure, with every field made safe for it."""
    return FAIL2BAN_LINE.format(
        ip=_log_field(ip), user=_log_field(user or ""), reason=_log_field(str(reason))
    )


class FailureLimiter:
    """Blocks a source address after ``max_failures`` failures within ``window`` seconds.

    The block lasts ``block`` seconds.  Addresses are forgotten when their failures age
    out; at most ``max_tracked`` addresses are followed (the least recently failing are
    forgotten first).  Not thread-safe by itself: call it from the SIP thread.
    """

    def __init__(
        self,
        max_failures: int = 10,
        window: float = 60.0,
        block: float = 300.0,
        clock: Clock = time.monotonic,
        *,
        max_tracked: int = 100_000,
    ) -> None:
        if max_failures < 1 or window <= 0 or block <= 0 or max_tracked < 1:
            raise ValueError("limits must be positive")
        self.max_failures = max_failures
        self.window = window
        self.block = block
        self._clock = clock
        self._max_tracked = max_tracked
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._blocked: OrderedDict[str, float] = OrderedDict()

    def is_blocked(self, ip: str) -> bool:
        until = self._blocked.get(ip)
        if until is None:
            return False
        if self._clock() < until:
            return True
        del self._blocked[ip]
        return False

    def record_failure(self, ip: str) -> bool:
        """Count one failure; True when the address is blocked now (by this one or before)."""
        if self.is_blocked(ip):
            return True
        now = self._clock()
        times = self._failures.pop(ip, None) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)
        if len(times) >= self.max_failures:
            self._blocked[ip] = now + self.block
            self._trim(self._blocked, now)
            return True
        self._failures[ip] = times
        self._trim_failures(now)
        return False

    def record_success(self, ip: str) -> None:
        """Forget the failures of an address (a block in force stays)."""
        self._failures.pop(ip, None)

    def _trim_failures(self, now: float) -> None:
        while self._failures:
            ip, times = next(iter(self._failures.items()))
            if len(self._failures) <= self._max_tracked and times[-1] > now - self.window:
                break
            del self._failures[ip]

    def _trim(self, blocked: OrderedDict[str, float], now: float) -> None:
        while blocked:
            ip, until = next(iter(blocked.items()))
            if len(blocked) <= self._max_tracked and until > now:
                break
            del blocked[ip]

"""Digest authentication: header values, known answers, the registrar's checks, rate limits."""

from __future__ import annotations

import contextlib
import hashlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqualine.telephony.digest import (
    FAIL2BAN_FAILREGEX,
    AuthReason,
    AuthResult,
    DigestAuthenticator,
    DigestError,
    DigestParseError,
    FailureLimiter,
    answer_challenge,
    choose_challenge,
    compute_ha1,
    compute_response,
    format_fail2ban_line,
    parse_challenge,
    parse_credentials,
    parse_digest,
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


REALM = "hotline.example.cn"
SECRET = b"0123456789abcdef0123456789abcdef"
URI = "sip:hotline.example.cn"
PASSWORDS = {"1001": "Yl-9kq2!", "1002": "secret two"}


def authenticator(clock: FakeClock | None = None, **kwargs: int) -> DigestAuthenticator:
    return DigestAuthenticator(REALM, SECRET, nonce_ttl=300, clock=clock or FakeClock(), **kwargs)


def login(
    auth: DigestAuthenticator,
    authorization: str | None,
    *,
    method: str = "REGISTER",
    uri: str = URI,
) -> AuthResult:
    return auth.verify(
        method=method,
        request_uri=uri,
        authorization_header_value=authorization,
        lookup_password=PASSWORDS.get,
    )


def respond(
    challenge: str,
    *,
    username: str = "1001",
    password: str | None = None,
    nc: int = 1,
    method: str = "REGISTER",
    uri: str = URI,
) -> str:
    return answer_challenge(
        www_authenticate_value=challenge,
        method=method,
        uri=uri,
        username=username,
        password=PASSWORDS.get(username, "") if password is None else password,
        nc=nc,
    )


def first_challenge(auth: DigestAuthenticator, algorithm: str = "SHA-256") -> str:
    [value] = auth.challenge(algorithms=(algorithm,))
    return value


# --- header values ------------------------------------------------------------------------


def test_it_splits_a_digest_value_into_parameters() -> None:
    value = (
        'digest  Username="Mufasa" ,REALM="a, b=c" ,nonce="x\\"y\\\\z", '
        'algorithm=SHA-256,qop=auth,\tnc=00000001 , ,uri = "sip:a" '
    )
    assert parse_digest(value) == {
        "username": "Mufasa",
        "realm": "a, b=c",
        "nonce": 'x"y\\z',
        "algorithm": "SHA-256",
        "qop": "auth",
        "nc": "00000001",
        "uri": "sip:a",
    }


def test_it_accepts_unquoted_base64_values_and_empty_quoted_ones() -> None:
    assert parse_digest('Digest nonce=ab/c+d==, opaque=""') == {"nonce": "ab/c+d==", "opaque": ""}


def test_it_accepts_a_bare_scheme() -> None:
    assert parse_digest("Digest") == {}


MALFORMED_VALUES = {
    "other scheme": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    "scheme glued to a parameter": 'Digestrealm="x"',
    "no value": "Digest realm",
    "empty value": "Digest realm=",
    "empty value before comma": "Digest realm=, nonce=x",
    "unterminated quote": 'Digest realm="x',
    "backslash at the end": 'Digest realm="x\\',
    "missing comma": 'Digest realm="x" nonce="y"',
    "quote inside a token": 'Digest realm=a"b"',
    "duplicate parameter": 'Digest realm="x", Realm="y"',
    "no name": 'Digest ="x"',
    "line break": 'Digest realm="x",\r\n nonce="y"',
    "NUL": 'Digest realm="x\x00"',
    "empty": "",
}


@pytest.mark.parametrize("value", MALFORMED_VALUES.values(), ids=MALFORMED_VALUES.keys())
def test_it_refuses_malformed_values_with_digest_parse_error(value: str) -> None:
    with pytest.raises(DigestParseError):
        parse_digest(value)


def test_it_reads_a_challenge() -> None:
    challenge = parse_challenge(
        'Digest realm="r", nonce="n", qop="auth, auth-int", algorithm=sha-256, stale=TRUE, '
        'opaque="o", domain="sip:r"'
    )
    assert challenge.realm == "r"
    assert challenge.nonce == "n"
    assert challenge.qop == ("auth", "auth-int")
    assert challenge.algorithm == "sha-256"
    assert challenge.stale
    assert challenge.opaque == "o"


def test_it_takes_md5_and_no_qop_when_a_challenge_does_not_say() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n"')
    assert (challenge.algorithm, challenge.qop, challenge.stale) == ("MD5", (), False)


@pytest.mark.parametrize(
    "value",
    [
        'Digest nonce="n"',
        'Digest realm="r"',
    ],
)
def test_it_refuses_a_challenge_without_realm_or_nonce(value: str) -> None:
    with pytest.raises(DigestParseError):
        parse_challenge(value)


CREDENTIALS = (
    'Digest username="1001", realm="r", nonce="n", uri="sip:r", response="abc", '
    'qop=auth, nc=0000000a, cnonce="c"'
)


def test_it_reads_credentials() -> None:
    creds = parse_credentials(CREDENTIALS)
    assert (creds.username, creds.realm, creds.nonce, creds.uri) == ("1001", "r", "n", "sip:r")
    assert (creds.qop, creds.nc, creds.nonce_count, creds.cnonce) == ("auth", "0000000a", 10, "c")
    assert creds.algorithm == "MD5"


@pytest.mark.parametrize(
    "value",
    [
        CREDENTIALS.replace('username="1001", ', ""),
        CREDENTIALS.replace('uri="sip:r", ', ""),
        CREDENTIALS.replace('response="abc", ', ""),
        CREDENTIALS.replace("nc=0000000a, ", ""),
        CREDENTIALS.replace(', cnonce="c"', ""),
        CREDENTIALS.replace("0000000a", "00000000g"),
        CREDENTIALS.replace("0000000a", "123456789"),
        CREDENTIALS + ", userhash=true",
        CREDENTIALS + ", username*=UTF-8''%E5%AE%A2",
    ],
)
def test_it_refuses_incomplete_or_unsupported_credentials(value: str) -> None:
    with pytest.raises(DigestParseError):
        parse_credentials(value)


# --- known answers ------------------------------------------------------------------------


def test_it_computes_the_rfc2617_example_response() -> None:
    # RFC 2617 §3.5: Mufasa / "Circle Of Life", GET /dir/index.html, qop=auth.
    nonce, cnonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b"
    ha1 = md5("Mufasa:testrealm@host.com:Circle Of Life")
    by_formula = md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{md5('GET:/dir/index.html')}")
    assert by_formula == "6629fae49393a05397450978507c4ef1"
    assert compute_ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == ha1
    computed = compute_response(
        algorithm="MD5",
        ha1=ha1,
        nonce=nonce,
        method="GET",
        uri="/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce=cnonce,
    )
    assert computed == by_formula


def test_it_computes_the_rfc2069_form_without_qop() -> None:
    ha1 = md5("Mufasa:testrealm@host.com:CircleOfLife")
    nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
    expected = md5(f"{ha1}:{nonce}:{md5('GET:/dir/index.html')}")
    computed = compute_response(
        algorithm="MD5", ha1=ha1, nonce=nonce, method="GET", uri="/dir/index.html"
    )
    assert computed == expected


RFC7616_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("algorithm", "published"),
    [
        # RFC 7616 §3.9.1: Mufasa / "Circle of Life", GET /dir/index.html, nc=00000001.
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_it_answers_the_rfc7616_example_challenge_with_the_published_response(
    algorithm: str, published: str
) -> None:
    value = answer_challenge(
        www_authenticate_value=RFC7616_CHALLENGE.format(algorithm=algorithm),
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce=RFC7616_CNONCE,
    )
    creds = parse_credentials(value)
    assert creds.response == published
    assert (creds.qop, creds.nc, creds.cnonce) == ("auth", "00000001", RFC7616_CNONCE)
    assert creds.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
    assert creds.algorithm == algorithm


def test_it_computes_sha256_by_the_rfc7616_formula() -> None:
    ha1 = sha256("Mufasa:http-auth@example.org:Circle of Life")
    ha2 = sha256("GET:/dir/index.html")
    nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
    expected = sha256(f"{ha1}:{nonce}:00000001:{RFC7616_CNONCE}:auth:{ha2}")
    assert compute_ha1("Mufasa", "http-auth@example.org", "Circle of Life", "SHA-256") == ha1
    assert expected == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"


def test_it_answers_an_md5_sess_challenge_by_the_rfc2617_formula() -> None:
    value = answer_challenge(
        www_authenticate_value='Digest realm="r", nonce="n", algorithm=MD5-sess, qop="auth"',
        method="INVITE",
        uri="sip:100@r",
        username="trunk",
        password="pw",
        cnonce="cn",
        nc=3,
    )
    ha1 = md5(f"{md5('trunk:r:pw')}:n:cn")
    expected = md5(f"{ha1}:n:00000003:cn:auth:{md5('INVITE:sip:100@r')}")
    assert parse_credentials(value).response == expected


# --- the client side ------------------------------------------------------------------------


def test_it_answers_a_challenge_without_qop_in_the_rfc2069_form() -> None:
    value = answer_challenge(
        www_authenticate_value='Digest realm="carrier", nonce="abc"',
        method="INVITE",
        uri="sip:+8657188880000@carrier",
        username="aqualine",
        password="pw",
    )
    creds = parse_credentials(value)
    assert creds.qop is None and creds.nc is None and creds.cnonce is None
    expected = md5(f"{md5('aqualine:carrier:pw')}:abc:{md5('INVITE:sip:+8657188880000@carrier')}")
    assert creds.response == expected
    assert value.startswith('Digest username="aqualine", realm="carrier", nonce="abc", ')


def test_it_writes_the_nonce_count_as_eight_hex_digits() -> None:
    value = respond('Digest realm="r", nonce="n", qop="auth"', nc=255)
    assert "nc=000000ff" in value


def test_it_makes_up_a_fresh_cnonce_each_time() -> None:
    challenge = 'Digest realm="r", nonce="n", qop="auth"'
    assert (
        parse_credentials(respond(challenge)).cnonce != parse_credentials(respond(challenge)).cnonce
    )


def test_it_escapes_quotes_in_the_username() -> None:
    value = respond('Digest realm="r", nonce="n"', username='a"b\\c', password="pw")
    assert parse_credentials(value).username == 'a"b\\c'


@pytest.mark.parametrize(
    "challenge",
    [
        'Digest realm="r", nonce="n", qop="auth-int"',
        'Digest realm="r", nonce="n", algorithm=SHA-512-256',
    ],
)
def test_it_refuses_to_answer_what_it_cannot_compute(challenge: str) -> None:
    with pytest.raises(DigestError):
        respond(challenge)


def test_it_refuses_a_username_that_would_break_the_header() -> None:
    with pytest.raises(DigestError):
        respond('Digest realm="r", nonce="n"', username="1001\r\nX-Evil: 1", password="pw")


def test_it_prefers_the_sha256_challenge_whatever_the_order() -> None:
    md5_value = 'Digest realm="r", nonce="n1", algorithm=MD5, qop="auth"'
    sha_value = 'Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth"'
    assert choose_challenge([md5_value, sha_value]) == sha_value
    assert choose_challenge(["Digest realm=", md5_value]) == md5_value
    with pytest.raises(DigestError):
        choose_challenge(['Digest realm="r", nonce="n", algorithm=SHA-512-256', "Basic x"])


# --- the server side ------------------------------------------------------------------------


def test_it_challenges_with_sha256_first_then_md5_sharing_one_nonce() -> None:
    sha_value, md5_value = authenticator().challenge()
    sha, md5_challenge = parse_challenge(sha_value), parse_challenge(md5_value)
    assert (sha.algorithm, md5_challenge.algorithm) == ("SHA-256", "MD5")
    assert sha.nonce == md5_challenge.nonce
    assert sha.qop == md5_challenge.qop == ("auth",)
    assert sha.realm == REALM
    assert sha.opaque and sha.opaque == md5_challenge.opaque
    assert not sha.stale
    assert 'qop="auth"' in sha_value


def test_it_marks_a_challenge_stale_when_asked() -> None:
    assert all(parse_challenge(v).stale for v in authenticator().challenge(stale=True))


def test_it_gives_a_new_nonce_with_each_challenge() -> None:
    auth = authenticator()
    assert (
        parse_challenge(first_challenge(auth)).nonce != parse_challenge(first_challenge(auth)).nonce
    )


def test_it_refuses_to_challenge_with_an_algorithm_it_cannot_check() -> None:
    with pytest.raises(ValueError):
        authenticator().challenge(algorithms=("MD5-sess",))
    with pytest.raises(ValueError):
        authenticator().challenge(algorithms=())


def test_it_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError):
        DigestAuthenticator(REALM, b"short")


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_it_lets_in_a_phone_that_answers_its_challenge(algorithm: str) -> None:
    auth = authenticator()
    result = login(auth, respond(first_challenge(auth, algorithm)))
    assert result.ok
    assert result.reason is AuthReason.OK
    assert (result.username, result.algorithm) == ("1001", algorithm)


def test_it_lets_in_a_phone_that_reuses_a_nonce_with_a_growing_count() -> None:
    auth = authenticator()
    challenge = first_challenge(auth)
    assert login(auth, respond(challenge, nc=1)).ok
    assert login(auth, respond(challenge, nc=2, method="INVITE"), method="INVITE").ok
    assert login(auth, respond(challenge, nc=7)).ok


def test_it_refuses_a_replayed_nonce_count() -> None:
    auth = authenticator()
    challenge = first_challenge(auth)
    header = respond(challenge, nc=2)
    assert login(auth, header).ok
    replayed = login(auth, header)
    assert replayed.reason is AuthReason.REPLAY
    assert not replayed.ok
    assert not replayed.counts_as_failure


def test_it_refuses_a_nonce_count_that_goes_back() -> None:
    auth = authenticator()
    challenge = first_challenge(auth)
    assert login(auth, respond(challenge, nc=5)).ok
    assert login(auth, respond(challenge, nc=3)).reason is AuthReason.REPLAY


def test_it_lets_in_a_legacy_phone_without_qop_once_per_nonce() -> None:
    auth = authenticator()
    challenge = parse_challenge(first_challenge(auth, "MD5"))
    legacy = respond(f'Digest realm="{challenge.realm}", nonce="{challenge.nonce}"')
    assert "qop" not in legacy
    assert login(auth, legacy).ok
    assert login(auth, legacy).reason is AuthReason.REPLAY


def test_it_does_not_let_a_nonce_count_renew_a_legacy_answer() -> None:
    auth = authenticator()
    challenge = parse_challenge(first_challenge(auth, "MD5"))
    legacy = respond(f'Digest realm="{challenge.realm}", nonce="{challenge.nonce}"')
    assert login(auth, legacy).ok
    assert login(auth, legacy + ", nc=00000009").reason is AuthReason.REPLAY


def test_it_refuses_a_legacy_answer_to_a_nonce_already_used_with_qop() -> None:
    auth = authenticator()
    value = first_challenge(auth, "MD5")
    challenge = parse_challenge(value)
    assert login(auth, respond(value)).ok
    legacy = respond(f'Digest realm="{challenge.realm}", nonce="{challenge.nonce}"')
    assert login(auth, legacy).reason is AuthReason.REPLAY


def test_it_refuses_a_wrong_password() -> None:
    auth = authenticator()
    result = login(auth, respond(first_challenge(auth), password="guess"))
    assert result.reason is AuthReason.BAD_RESPONSE
    assert result.username == "1001"
    assert result.counts_as_failure


def test_it_refuses_an_unknown_user() -> None:
    auth = authenticator()
    result = login(auth, respond(first_challenge(auth), username="9999", password="x"))
    assert result.reason is AuthReason.UNKNOWN_USER
    assert result.counts_as_failure


def test_it_refuses_credentials_for_another_realm() -> None:
    auth = authenticator()
    other = DigestAuthenticator("other.example.cn", SECRET, clock=FakeClock())
    result = login(auth, respond(first_challenge(other)))
    assert result.reason is AuthReason.WRONG_REALM
    assert result.counts_as_failure


def test_it_calls_an_expired_nonce_stale_when_the_password_is_right() -> None:
    clock = FakeClock()
    auth = authenticator(clock)
    header = respond(first_challenge(auth))
    clock.now += 301
    result = login(auth, header)
    assert result.reason is AuthReason.STALE_NONCE
    assert result.stale
    assert not result.counts_as_failure


def test_it_accepts_a_nonce_until_its_time_is_up() -> None:
    clock = FakeClock()
    auth = authenticator(clock)
    challenge = first_challenge(auth)
    clock.now += 299
    assert login(auth, respond(challenge)).ok


def test_it_does_not_call_an_expired_nonce_stale_when_the_password_is_wrong() -> None:
    clock = FakeClock()
    auth = authenticator(clock)
    header = respond(first_challenge(auth), password="guess")
    clock.now += 301
    assert login(auth, header).reason is AuthReason.BAD_RESPONSE


def test_it_refuses_a_tampered_nonce() -> None:
    auth = authenticator()
    challenge = first_challenge(auth)
    nonce = parse_challenge(challenge).nonce
    flipped = nonce[:10] + ("A" if nonce[10] != "A" else "B") + nonce[11:]
    header = respond(challenge.replace(nonce, flipped))
    assert login(auth, header).reason is AuthReason.INVALID_NONCE


@pytest.mark.parametrize(
    "nonce", ["", "abc", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "é" * 44]
)
def test_it_refuses_nonces_it_never_made(nonce: str) -> None:
    auth = authenticator()
    header = respond(f'Digest realm="{REALM}", nonce="{nonce}", qop="auth"')
    assert login(auth, header).reason is AuthReason.INVALID_NONCE


def test_it_refuses_a_nonce_signed_with_another_secret() -> None:
    auth = authenticator()
    stranger = DigestAuthenticator(REALM, b"another secret of 32 bytes......", clock=FakeClock())
    assert login(auth, respond(first_challenge(stranger))).reason is AuthReason.INVALID_NONCE


def test_it_refuses_a_nonce_from_the_future() -> None:
    clock = FakeClock()
    auth = authenticator(clock)
    clock.now += 60
    challenge = first_challenge(auth)
    clock.now -= 60
    assert login(auth, respond(challenge)).reason is AuthReason.INVALID_NONCE


def test_it_refuses_a_changed_opaque() -> None:
    auth = authenticator()
    challenge = first_challenge(auth)
    opaque = parse_challenge(challenge).opaque
    assert opaque is not None
    header = respond(challenge.replace(opaque, "0" * len(opaque)))
    assert login(auth, header).reason is AuthReason.INVALID_NONCE


def test_it_lets_in_a_phone_that_drops_the_opaque() -> None:
    auth = authenticator()
    challenge = first_challenge(auth)
    header = respond(re.sub(r', opaque="[^"]*"', "", challenge))
    assert "opaque" not in header
    assert login(auth, header).ok


def test_it_refuses_an_algorithm_the_nonce_was_not_offered_with() -> None:
    auth = authenticator()
    only_md5 = first_challenge(auth, "MD5")
    header = respond(only_md5.replace("algorithm=MD5", "algorithm=SHA-256"))
    assert login(auth, header).reason is AuthReason.UNSUPPORTED_ALGORITHM
    sess = respond(only_md5.replace("algorithm=MD5", "algorithm=MD5-sess"))
    assert login(auth, sess).reason is AuthReason.UNSUPPORTED_ALGORITHM


def test_it_refuses_credentials_for_another_request_uri() -> None:
    auth = authenticator()
    header = respond(first_challenge(auth), uri="sip:hotline.example.cn;transport=tcp")
    assert login(auth, header).reason is AuthReason.URI_MISMATCH


def test_it_checks_the_method() -> None:
    auth = authenticator()
    header = respond(first_challenge(auth), method="INVITE")
    assert login(auth, header, method="REGISTER").reason is AuthReason.BAD_RESPONSE


@pytest.mark.parametrize("value", [None, "", "   "])
def test_it_reports_missing_credentials(value: str | None) -> None:
    result = login(authenticator(), value)
    assert result.reason is AuthReason.MISSING
    assert not result.counts_as_failure


@pytest.mark.parametrize(
    "value", ["Basic YTpi", "Digest realm=", CREDENTIALS.replace("qop=auth", "qop=auth-int")]
)
def test_it_reports_malformed_credentials(value: str) -> None:
    result = login(authenticator(), value.replace('realm="r"', f'realm="{REALM}"'))
    assert result.reason is AuthReason.MALFORMED
    assert result.counts_as_failure


def test_it_hashes_the_qop_as_the_phone_wrote_it() -> None:
    auth = authenticator()
    nonce = parse_challenge(first_challenge(auth, "MD5")).nonce
    response = compute_response(
        algorithm="MD5",
        ha1=compute_ha1("1001", REALM, PASSWORDS["1001"]),
        nonce=nonce,
        method="REGISTER",
        uri=URI,
        qop="AUTH",
        nc="00000001",
        cnonce="c0ffee",
    )
    header = (
        f'Digest username="1001", realm="{REALM}", nonce="{nonce}", uri="{URI}", '
        f'response="{response}", qop=AUTH, nc=00000001, cnonce="c0ffee"'
    )
    assert login(auth, header).ok


def test_it_accepts_an_upper_case_response() -> None:
    auth = authenticator()
    header = respond(first_challenge(auth))
    response = parse_credentials(header).response
    assert login(auth, header.replace(response, response.upper())).ok


def test_it_refuses_a_response_of_the_wrong_length() -> None:
    auth = authenticator()
    header = respond(first_challenge(auth))
    response = parse_credentials(header).response
    assert login(auth, header.replace(response, response[:32])).reason is AuthReason.BAD_RESPONSE


def test_it_checks_against_stored_ha1_per_algorithm() -> None:
    auth = authenticator()
    asked: list[tuple[str, str]] = []

    def lookup_ha1(username: str, algorithm: str) -> str | None:
        asked.append((username, algorithm))
        return compute_ha1(username, REALM, PASSWORDS[username], algorithm)

    for algorithm in ("SHA-256", "MD5"):
        result = auth.verify(
            method="REGISTER",
            request_uri=URI,
            authorization_header_value=respond(first_challenge(auth, algorithm)),
            lookup_ha1=lookup_ha1,
        )
        assert result.ok
    assert asked == [("1001", "SHA-256"), ("1001", "MD5")]


def test_it_wants_exactly_one_way_to_look_up_users() -> None:
    auth = authenticator()
    with pytest.raises(TypeError):
        auth.verify(method="REGISTER", request_uri=URI, authorization_header_value=None)
    with pytest.raises(TypeError):
        auth.verify(
            method="REGISTER",
            request_uri=URI,
            authorization_header_value=None,
            lookup_password=PASSWORDS.get,
            lookup_ha1=lambda user, algorithm: None,
        )


def test_it_lets_in_a_phone_after_a_restart_with_the_same_secret() -> None:
    clock = FakeClock()
    challenge = first_challenge(authenticator(clock))
    assert login(authenticator(clock), respond(challenge)).ok


def test_it_re_challenges_rather_than_forgets_replays_when_its_table_is_full() -> None:
    clock = FakeClock()
    auth = authenticator(clock, max_tracked_nonces=2)
    headers = []
    for _ in range(3):
        headers.append(respond(first_challenge(auth)))
        clock.now += 1
    assert all(login(auth, header).ok for header in headers)
    # the first nonce was pushed out of the table: a replay of it is not let in
    assert login(auth, headers[0]).reason is AuthReason.STALE_NONCE
    assert login(auth, headers[2]).reason is AuthReason.REPLAY


def test_it_still_takes_fresh_nonces_after_forgetting_old_ones() -> None:
    clock = FakeClock()
    auth = authenticator(clock, max_tracked_nonces=1)
    assert login(auth, respond(first_challenge(auth))).ok
    clock.now += 1
    assert login(auth, respond(first_challenge(auth))).ok
    clock.now += 1
    assert login(auth, respond(first_challenge(auth))).ok


# --- failed attempts -------------------------------------------------------------------------


def test_it_blocks_an_address_after_too_many_failures() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(max_failures=3, window=60, block=300, clock=clock)
    assert not limiter.record_failure("198.51.100.7")
    assert not limiter.record_failure("198.51.100.7")
    assert not limiter.is_blocked("198.51.100.7")
    assert limiter.record_failure("198.51.100.7")
    assert limiter.is_blocked("198.51.100.7")
    assert not limiter.is_blocked("198.51.100.8")


def test_it_keeps_reporting_a_blocked_address_as_blocked() -> None:
    limiter = FailureLimiter(max_failures=1, window=60, block=300, clock=FakeClock())
    assert limiter.record_failure("198.51.100.7")
    assert limiter.record_failure("198.51.100.7")


def test_it_lifts_a_block_when_its_time_is_up() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(max_failures=2, window=60, block=300, clock=clock)
    limiter.record_failure("198.51.100.7")
    limiter.record_failure("198.51.100.7")
    clock.now += 299
    assert limiter.is_blocked("198.51.100.7")
    clock.now += 1
    assert not limiter.is_blocked("198.51.100.7")
    assert not limiter.record_failure("198.51.100.7")


def test_it_does_not_block_failures_spread_beyond_the_window() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(max_failures=3, window=60, block=300, clock=clock)
    for _ in range(10):
        assert not limiter.record_failure("198.51.100.7")
        clock.now += 31


def test_it_forgets_failures_after_a_success() -> None:
    limiter = FailureLimiter(max_failures=3, window=60, block=300, clock=FakeClock())
    limiter.record_failure("198.51.100.7")
    limiter.record_failure("198.51.100.7")
    limiter.record_success("198.51.100.7")
    assert not limiter.record_failure("198.51.100.7")
    assert not limiter.record_failure("198.51.100.7")


def test_it_does_not_lift_a_block_on_success() -> None:
    limiter = FailureLimiter(max_failures=1, window=60, block=300, clock=FakeClock())
    limiter.record_failure("198.51.100.7")
    limiter.record_success("198.51.100.7")
    assert limiter.is_blocked("198.51.100.7")


def test_it_follows_a_bounded_number_of_addresses() -> None:
    limiter = FailureLimiter(max_failures=2, window=60, block=300, clock=FakeClock(), max_tracked=2)
    limiter.record_failure("198.51.100.1")
    limiter.record_failure("198.51.100.2")
    limiter.record_failure("198.51.100.3")
    assert not limiter.record_failure("198.51.100.1")  # forgotten, counts from one again
    assert limiter.record_failure("198.51.100.3")


def fail2ban_pattern() -> re.Pattern[str]:
    return re.compile(FAIL2BAN_FAILREGEX.replace("<HOST>", r"(?P<host>\S+)"))


def test_it_writes_a_line_the_fail2ban_filter_matches() -> None:
    line = format_fail2ban_line(ip="198.51.100.7", user="1001", reason=AuthReason.BAD_RESPONSE)
    assert line == "SIP auth failure from 198.51.100.7 user 1001 reason bad_response"
    match = fail2ban_pattern().search(line)
    assert match is not None and match["host"] == "198.51.100.7"


def test_it_keeps_a_hostile_username_from_faking_the_address() -> None:
    hostile = "x from 203.0.113.9 user y reason z\nSIP auth failure from 203.0.113.9"
    line = format_fail2ban_line(ip="2001:db8::7", user=hostile, reason="bad_response")
    assert "\n" not in line and line.count(" ") == 8  # nine words, as ever
    match = fail2ban_pattern().search(line)
    assert match is not None and match["host"] == "2001:db8::7"


def test_it_writes_an_empty_or_long_username_within_bounds() -> None:
    assert " user - " in format_fail2ban_line(ip="198.51.100.7", user=None, reason="malformed")
    line = format_fail2ban_line(ip="198.51.100.7", user="客" * 200, reason="unknown_user")
    assert len(line) < 160
    assert line.isascii()


# --- property tests ---------------------------------------------------------------------------

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOKENS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=12)
VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from('"\\, ='),
    max_size=30,
)


@FUZZ
@given(st.text(max_size=300))
def test_it_meets_any_text_with_a_dict_or_digest_parse_error(value: str) -> None:
    try:
        params = parse_digest(value)
    except DigestParseError:
        return
    assert all(name == name.lower() for name in params)


@FUZZ
@given(st.text(max_size=300))
def test_it_meets_any_digest_shaped_text_with_a_dict_or_digest_parse_error(tail: str) -> None:
    for value in ("Digest " + tail, f'Digest realm="{tail}", nonce={tail}'):
        with contextlib.suppress(DigestParseError):
            parse_digest(value)


@FUZZ
@given(st.dictionaries(TOKENS, VALUES, max_size=8))
def test_it_reads_back_any_parameters_it_quotes(params: dict[str, str]) -> None:
    quoted = ", ".join(
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in params.items()
    )
    assert parse_digest("Digest " + quoted) == params


AUTH = DigestAuthenticator(REALM, SECRET, clock=FakeClock())
VALID = respond(first_challenge(AUTH))


@FUZZ
@given(st.text(max_size=300))
def test_it_never_raises_on_any_authorization_value(value: str) -> None:
    for candidate in (value, "Digest " + value):
        result = login(AUTH, candidate)
        assert isinstance(result, AuthResult)
        assert not result.ok


@FUZZ
@given(
    cuts=st.lists(
        st.tuples(
            st.integers(min_value=0),
            st.sampled_from(['"', "\\", ",", "=", " ", "", "\x00", "é", "\udcff", "0"]),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_it_never_raises_on_damaged_credentials(cuts: list[tuple[int, str, int]]) -> None:
    value = VALID
    for position, splice, dropped in cuts:
        at = position % (len(value) + 1)
        value = value[:at] + splice + value[at + dropped :]
    result = login(AUTH, value)
    assert isinstance(result, AuthResult)
    assert isinstance(result.reason, AuthReason)

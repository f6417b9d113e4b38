"""The HS256 verifier against PyJWT, its oracle: anything it accepts, PyJWT accepts with the
same claims; anything PyJWT refuses, it refuses. Plus the cases where it is stricter on purpose."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmejira.connect import jws

SECRET = "s3cr3t-" * 10
REQUIRED = ["iss", "iat", "exp", "qsh"]
REGISTERED = {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}
LEEWAY = 5


def _claims(**overrides):
    now = int(time.time())
    claims = {
        "iss": "jira:site",
        "iat": now - 10,
        "exp": now + 600,
        "qsh": "context-qsh",
        "sub": "557058:abc",
        "context": {"jira": {"issue": {"key": "ABC-1", "id": "10001"}}},
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not ...}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sign(header, payload, secret=SECRET) -> str:
    """A token from raw parts, for shapes PyJWT will not encode."""
    head = _b64(header if isinstance(header, bytes) else json.dumps(header).encode())
    body = _b64(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def ours(token, secret=SECRET):
    try:
        return jws.verify_hs256(jws.parse(token), secret, required=REQUIRED, leeway=LEEWAY)
    except jws.InvalidToken:
        return None


def pyjwt(token, secret=SECRET):
    try:
        return jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            leeway=LEEWAY,
            options={"require": REQUIRED, "verify_aud": False},
        )
    except jwt.PyJWTError:
        return None


def assert_no_laxer_than_pyjwt(token, secret=SECRET):
    mine = ours(token, secret)
    if mine is not None:
        assert pyjwt(token, secret) == mine, token


def test_a_valid_token_gives_the_same_claims():
    token = jwt.encode(_claims(), SECRET, algorithm="HS256")
    assert ours(token) == pyjwt(token) == _claims()


def _mutations(token: str):
    """Every single-character change a forger or a broken proxy could make, and more."""
    alphabet = "Aa0_-=.+/ !\x00é"
    for i in range(len(token)):
        for c in alphabet:
            yield token[:i] + c + token[i + 1 :]
        yield token[:i] + token[i + 1 :]
        yield token[:i] + "=" + token[i:]
    head, body, sig = token.split(".")
    base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for c in base64url:  # the last character of a segment has spare bits
        yield f"{head[:-1]}{c}.{body}.{sig}"
        yield f"{head}.{body[:-1]}{c}.{sig}"
        yield f"{head}.{body}.{sig[:-1]}{c}"
    for pad in ("=", "==", "==="):
        yield f"{head}{pad}.{body}.{sig}"
        yield f"{head}.{body}{pad}.{sig}"
        yield f"{head}.{body}.{sig}{pad}"
    yield token + "."
    yield "." + token
    yield f"{head}.{body}"
    yield f"{head}.{body}.{sig}.{sig}"


@pytest.mark.parametrize("lifetime", [600, -600])
def test_mutated_tokens_are_never_accepted_where_pyjwt_refuses(lifetime):
    token = jwt.encode(_claims(exp=int(time.time()) + lifetime), SECRET, algorithm="HS256")
    mutations = set(_mutations(token)) - {token}
    for mutated in mutations:
        assert_no_laxer_than_pyjwt(mutated)
    assert len(mutations) > 4_000
    # Any change the signature covers is refused, and so is one of the spare bits of the
    # signature's last character (not canonical). What remains: the same signature padded.
    accepted = {mutated for mutated in mutations if ours(mutated) is not None}
    assert accepted == ({token + "="} if lifetime > 0 else set())


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("HS512", jwt.encode(_claims(), SECRET, algorithm="HS512")),
        ("alg none", jwt.encode(_claims(), None, algorithm="none")),
        ("alg missing", _sign({"typ": "JWT"}, _claims())),
        ("wrong secret", jwt.encode(_claims(), "x" * 40, algorithm="HS256")),
        ("expired beyond leeway", jwt.encode(_claims(exp=int(time.time()) - 6), SECRET)),
        ("iat in the future", jwt.encode(_claims(iat=int(time.time()) + 60), SECRET)),
        ("nbf in the future", jwt.encode(_claims(nbf=int(time.time()) + 60), SECRET)),
        ("exp missing", jwt.encode(_claims(exp=...), SECRET)),
        ("qsh null", _sign({"alg": "HS256"}, _claims(qsh=None))),
        ("exp not a number", _sign({"alg": "HS256"}, _claims(exp="soon"))),
        ("exp infinite", _sign({"alg": "HS256"}, b'{"iss":"a","iat":1,"qsh":"q","exp":1e999}')),
        ("sub a number", _sign({"alg": "HS256"}, _claims(sub=42))),
        ("jti a number", _sign({"alg": "HS256"}, _claims(jti=42))),
        ("kid a number", _sign({"alg": "HS256", "kid": 7}, _claims())),
        ("claims a list", _sign({"alg": "HS256"}, b"[1, 2]")),
        ("claims not JSON", _sign({"alg": "HS256"}, b"{iss: 1}")),
        ("claims not UTF-8", _sign({"alg": "HS256"}, b'{"iss": "\xff"}')),
        ("header a string", _sign(b'"HS256"', _claims())),
        ("unknown crit", _sign({"alg": "HS256", "crit": ["exp"], "exp": 1}, _claims())),
        ("b64 false", _sign({"alg": "HS256", "b64": False, "crit": ["b64"]}, _claims())),
        ("deep JSON", _sign({"alg": "HS256"}, b'{"iss":' + b"[" * 100_000 + b"]" * 100_000 + b"}")),
        ("empty", ""),
        ("not ASCII", "é.é.é"),
    ],
)
def test_refused_by_both(case, token):
    assert ours(token) is None, case
    assert pyjwt(token) is None, case


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("exp a numeric string", _sign({"alg": "HS256"}, _claims(exp=str(int(time.time()) + 60)))),
        ("iat true", _sign({"alg": "HS256"}, _claims(iat=True))),
        ("b64 true", _sign({"alg": "HS256", "b64": True}, _claims())),
    ],
)
def test_stricter_than_pyjwt_on_purpose(case, token):
    assert pyjwt(token) is not None, case
    assert ours(token) is None, case


def test_within_leeway_is_accepted_by_both():
    token = jwt.encode(_claims(exp=int(time.time()) - 3), SECRET, algorithm="HS256")
    assert ours(token) == pyjwt(token) is not None


def test_the_refusals_say_why():
    expired = jws.parse(jwt.encode(_claims(exp=1000, iat=900), SECRET))
    with pytest.raises(jws.Expired):
        jws.verify_hs256(expired, SECRET, required=REQUIRED, leeway=LEEWAY)
    early = jws.parse(jwt.encode(_claims(iat=int(time.time()) + 60), SECRET))
    with pytest.raises(jws.NotYetValid):
        jws.verify_hs256(early, SECRET, required=REQUIRED, leeway=LEEWAY)
    with pytest.raises(jws.MalformedToken):
        jws.parse("a.b")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(["alg", "typ", "kid", "crit", "b64"]), _json_values),
    claims=st.dictionaries(
        st.sampled_from(["iss", "iat", "exp", "nbf", "qsh", "sub", "jti", "context"]),
        _json_values | st.integers(min_value=0, max_value=2 * 10**9),
    ),
    use_hs256=st.booleans(),
)
def test_any_header_and_claims_are_never_accepted_where_pyjwt_refuses(header, claims, use_hs256):
    if use_hs256:
        header = {**header, "alg": "HS256"}
    token = _sign(header, json.dumps(claims, allow_nan=True).encode())
    assert_no_laxer_than_pyjwt(token)


# -- signing ------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # short keys too
@settings(max_examples=300, deadline=None)
@given(
    # PyJWT type-checks the registered claims it is given; those are the next test's
    claims=st.dictionaries(
        st.text(max_size=12).filter(lambda name: name not in REGISTERED), _json_values, max_size=8
    ),
    secret=st.text(min_size=1, max_size=64) | st.binary(min_size=1, max_size=64),
)
def test_a_signed_token_is_byte_for_byte_pyjwt_s(claims, secret):
    assert jws.sign_hs256(claims, secret) == jwt.encode(claims, secret, algorithm="HS256")


def test_a_signed_token_verifies_and_names_its_algorithm():
    token = jws.sign_hs256(_claims(), SECRET)
    assert token == jwt.encode(_claims(), SECRET, algorithm="HS256")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert ours(token) == pyjwt(token) == _claims()
    assert ours(token, secret="another secret") is None


def _canonical(segment: str) -> bytes | None:
    """The reference rule: a segment decodes, and encoding what it decodes to gives it back."""
    stripped = segment.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except ValueError:
        return None
    return raw if _b64(raw) == stripped else None


@pytest.mark.parametrize("prefix", ["", "eyJh", "eyJhbG"])
@pytest.mark.parametrize("padded", [False, True])
def test_a_segment_is_decoded_exactly_when_it_is_canonical(prefix, padded):
    """Every last character after every remainder: the spare-bit tables against re-encoding."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for body in (prefix + a + b for a in "Ae_" for b in ["", "w", "w8"]):
        for last in alphabet:
            segment = body + last
            if padded:
                segment += "=" * (-len(segment) % 4)
            expected = _canonical(segment) if len(segment.rstrip("=")) % 4 != 1 else None
            try:
                got = jws._base64url(segment)
            except jws.MalformedToken:
                got = None
            assert got == expected, segment


def test_a_header_is_read_only_and_decoded_once_per_shape():
    token = jws.parse(_sign({"alg": "HS256", "typ": "JWT"}, _claims()))
    again = jws.parse(_sign({"alg": "HS256", "typ": "JWT"}, _claims(sub="other")))
    assert again.header is token.header
    with pytest.raises(TypeError):
        token.header["alg"] = "none"

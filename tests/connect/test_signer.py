"""The outgoing signer: a JWT Jira accepts for exactly the request it signs."""

import hashlib

import jwt

from fmejira.connect.signer import ConnectSigner


def _claims(header: str, secret: str) -> dict:
    assert header.startswith("JWT ")
    return jwt.decode(header[4:], secret, algorithms=["HS256"])


def test_claims_and_lifetime():
    signer = ConnectSigner("my-app", "https://site.atlassian.net", "s" * 40)
    claims = _claims(
        signer("POST", "https://site.atlassian.net/rest/featureflags/0.1/bulk"), "s" * 40
    )
    assert claims["iss"] == "my-app"
    assert claims["exp"] - claims["iat"] == 180
    assert claims["qsh"] == hashlib.sha256(b"POST&/rest/featureflags/0.1/bulk&").hexdigest()


def test_query_is_part_of_the_hash():
    signer = ConnectSigner("my-app", "https://site.atlassian.net", "s" * 40)
    url = "https://site.atlassian.net/rest/api/3/issue/ABC-1?fields=summary,status"
    expected = hashlib.sha256(b"GET&/rest/api/3/issue/ABC-1&fields=summary%2Cstatus").hexdigest()
    assert _claims(signer("GET", url), "s" * 40)["qsh"] == expected


def test_site_base_path_is_removed():
    signer = ConnectSigner("my-app", "https://example.com/jira", "s" * 40)
    claims = _claims(
        signer("DELETE", "https://example.com/jira/rest/featureflags/0.1/flag/x"), "s" * 40
    )
    assert claims["qsh"] == hashlib.sha256(b"DELETE&/rest/featureflags/0.1/flag/x&").hexdigest()


def test_repr_hides_the_secret():
    assert "sss" not in repr(ConnectSigner("my-app", "https://x.atlassian.net", "s" * 40))

"""The query string hash, against the published atlassian-jwt test vectors (PROTOCOLS.md)."""

import hashlib
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmejira.connect.qsh import _enc, canonical_request, query_string_hash, query_string_hashes


def split(url: str):
    parts = urlsplit(url)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True)


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("GET", "/path", "799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2"),
        ("GET", "/", "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"),
        (
            "GET",
            "/hello-world?lic=none&tz=Australia%2FSydney&cp=%2Fjira&user_key=&loc=en-US&user_id="
            "&jwt=abc&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_c=channel-servlet-hello-world&xdm_p=1",
            "8063ff4ca1e41df7bc90c8ab6d0f6207d491cf6dad7c66ea797b4614b71922e9",
        ),
    ],
)
def test_published_hashes(method, url, expected):
    path, params = split(url)
    assert query_string_hash(method, path, params) == expected


def test_repeated_parameters_are_sorted_and_joined():
    params = [
        ("zee_last", "param"),
        ("repeated", "parameter 1"),
        ("first", "param"),
        ("repeated", "parameter 2"),
        ("repeated", "Parameter 2"),
    ]
    assert (
        canonical_request("GET", "/path/to/service", params)
        == "GET&/path/to/service&first=param&repeated=Parameter%202,parameter%201,parameter%202"
        "&zee_last=param"
    )


def test_base_path_is_removed_and_ampersands_in_the_path_are_escaped():
    assert (
        canonical_request("POST", "/jira/rest/api/2/project/jira&a=b&c=d", [("x", "y")], "/jira")
        == "POST&/rest/api/2/project/jira%26a=b%26c=d&x=y"
    )


def test_bulk_feature_flags_hash():
    expected = hashlib.sha256(b"POST&/rest/featureflags/0.1/bulk&").hexdigest()
    assert query_string_hash("post", "/rest/featureflags/0.1/bulk") == expected


@pytest.mark.parametrize(
    ("path", "canonical_path"),
    [("", "/"), ("/", "/"), ("path/", "/path"), ("/a/b/", "/a/b")],
)
def test_path_normalisation(path, canonical_path):
    assert canonical_request("GET", path) == f"GET&{canonical_path}&"


def test_reserved_characters_in_values_are_rfc3986_encoded():
    assert canonical_request("GET", "/", [("q", "a b*c~d+e/")]) == "GET&/&q=a%20b%2Ac~d%2Be%2F"


def test_key_without_value():
    assert canonical_request("GET", "/", [("user_key", "")]) == "GET&/&user_key="


def test_hashes_of_several_path_spellings_are_each_spelling_s_hash():
    params = [("b", "2"), ("a", "x y"), ("jwt", "ignored")]
    paths = ["/jira/glance", "/jira/gl%61nce", "/base/jira/glance"]
    assert query_string_hashes("get", paths, params, "/base") == {
        query_string_hash("GET", path, params, "/base") for path in paths
    }


@given(st.text() | st.text(st.sampled_from("aZ09-._~ *%&=+/,é")))
def test_the_unescaped_fast_path_encodes_as_quote_does(text):
    assert _enc(text) == quote(text, safe="~")

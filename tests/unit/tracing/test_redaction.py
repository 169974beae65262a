"""Redaction: keys that can carry a person's data or a secret are dropped, URLs lose their query, values and
attribute counts stay within the limits."""

from __future__ import annotations

import pytest

from mlsec.services.tracing.service.redaction import Redactor, Verdict, classify, strip_url


@pytest.mark.parametrize(
    "key",
    [
        "url.query",
        "client.address",
        "user_agent.original",
        "enduser.id",
        "user.email",
        "http.request.header.cookie",
        "http.request.body.size",
        "db.statement",
        "db.query.text",
        "exception.message",
        "DB.Password",
        "my_app.api_key",
        "service.auth_token",
        "x-session-cookie",
        "",
        "k" * 300,
    ],
)
def test_dropped_keys(key: str) -> None:
    assert classify(key) is Verdict.DROP


@pytest.mark.parametrize(
    "key", ["http.route", "mlsec.model.name", "gen_ai.usage.input_tokens", "error.type", "user_agent_family"]
)
def test_kept_keys(key: str) -> None:
    assert classify(key) is Verdict.KEEP


def test_a_url_keeps_scheme_host_and_path_only() -> None:
    assert classify("url.full") is Verdict.URL
    assert strip_url("https://ann:pw@host.example:8443/a/b?token=x#frag") == "https://host.example:8443/a/b"
    assert strip_url("http://[::1") == ""


def test_limits() -> None:
    redactor = Redactor(max_attributes=2, max_value_length=4)
    cleaned = redactor.clean([("a", "abcdefgh"), ("client.address", "1.2.3.4"), ("b", [1] * 100), ("c", 1)])
    assert cleaned == {"a": "abcd", "b": [1] * 64}
    assert redactor.dropped == 2 and redactor.truncated == 2
    assert redactor.value({"user.id": "ann", "k": "v"}) == {"k": "v"}

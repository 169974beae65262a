"""Secrets: API keys and tokens by their issuers' shapes, private keys, connection strings with a password, and
values assigned to a key, secret, token or password."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlsec.ml.pii.findings import SECRET, Finding
from mlsec.ml.pii.prefilter import has_any, has_text

_SHAPES: tuple[tuple[str, tuple[str, ...], re.Pattern[str], float], ...] = (
    # rule, the text one of which every match holds (checked first), pattern, score
    ("aws-access-key", ("AKIA", "ASIA"), re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), 0.95),
    ("github-token", ("gh",), re.compile(r"(?<![\w])gh[pousr]_[A-Za-z0-9]{36,255}(?![\w])"), 0.99),
    ("github-fine-grained", ("github_pat_",), re.compile(r"(?<![\w])github_pat_[A-Za-z0-9_]{60,255}(?![\w])"), 0.99),
    ("slack-token", ("xox",), re.compile(r"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}(?![\w-])"), 0.95),
    (
        "stripe-key",
        ("_live_", "_test_"),
        re.compile(r"(?<![\w])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}(?![\w])"),
        0.95,
    ),
    ("google-api-key", ("AIza",), re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])"), 0.95),
    ("openai-key", ("sk-",), re.compile(r"(?<![\w-])sk-(?:proj-)?[A-Za-z0-9_-]{20,}(?![\w-])"), 0.85),
    (
        "jwt",
        ("eyJ",),
        re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![\w-])"),
        0.9,
    ),
    (
        "private-key",
        ("-----BEGIN ",),
        re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]{16,}?-----END (?:[A-Z]+ )?PRIVATE KEY-----"),
        1.0,
    ),
    (
        "connection-string",
        ("://",),
        re.compile(r"(?<![\w+.-])[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:[^\s@/]{1,128}@[^\s/]+"),
        0.9,
    ),
)
_ASSIGNED = re.compile(
    r"(?i)(?<![\w])(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|token|password|passwd|pwd)"
    r"\s*[:=]\s*[\"']?(?P<value>[^\s\"',;]{8,256})"
)


_SHAPE_PARTS = tuple(part for _, parts, _, _ in _SHAPES for part in parts)
_ASSIGNED_PARTS = ("key", "secret", "token", "passw", "pwd")  # one of them is in every name _ASSIGNED knows


def secrets(text: str) -> Iterator[Finding]:
    if has_text(text, _SHAPE_PARTS):  # most texts hold none: one look for every shape
        for rule, parts, pattern, score in _SHAPES:
            if has_text(text, parts):
                for match in pattern.finditer(text):
                    yield Finding(SECRET, match.start(), match.end(), score, f"secret:{rule}")
    if not has_any(text, _ASSIGNED_PARTS):
        return
    for match in _ASSIGNED.finditer(text):
        yield Finding(SECRET, match.start("value"), match.end("value"), 0.75, "secret:assigned")

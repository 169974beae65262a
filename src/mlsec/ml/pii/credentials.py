"""Secrets: API keys and tokens by their issuers' shapes, private keys, connection strings with a password, and
values assigned to a key, secret, token or password."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlsec.ml.pii.findings import SECRET, Finding

_SHAPES: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("aws-access-key", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), 0.95),
    ("github-token", re.compile(r"(?<![\w])gh[pousr]_[A-Za-z0-9]{36,255}(?![\w])"), 0.99),
    ("github-fine-grained", re.compile(r"(?<![\w])github_pat_[A-Za-z0-9_]{60,255}(?![\w])"), 0.99),
    ("slack-token", re.compile(r"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}(?![\w-])"), 0.95),
    ("stripe-key", re.compile(r"(?<![\w])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}(?![\w])"), 0.95),
    ("google-api-key", re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])"), 0.95),
    ("openai-key", re.compile(r"(?<![\w-])sk-(?:proj-)?[A-Za-z0-9_-]{20,}(?![\w-])"), 0.85),
    ("jwt", re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![\w-])"), 0.9),
    (
        "private-key",
        re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]{16,}?-----END (?:[A-Z]+ )?PRIVATE KEY-----"),
        1.0,
    ),
    (
        "connection-string",
        re.compile(r"(?<![\w+.-])[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:[^\s@/]{1,128}@[^\s/]+"),
        0.9,
    ),
)
_ASSIGNED = re.compile(
    r"(?i)(?<![\w])(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|token|password|passwd|pwd)"
    r"\s*[:=]\s*[\"']?(?P<value>[^\s\"',;]{8,256})"
)


def secrets(text: str) -> Iterator[Finding]:
    for rule, pattern, score in _SHAPES:
        for match in pattern.finditer(text):
            yield Finding(SECRET, match.start(), match.end(), score, f"secret:{rule}")
    for match in _ASSIGNED.finditer(text):
        yield Finding(SECRET, match.start("value"), match.end("value"), 0.75, "secret:assigned")

"""Who may call what: one ordered rule table from (HTTP method, route template) to the role it needs.

The table is data, not if-chains, so that docs/security.md is generated from it (a test fails when
the document and the table differ) and a route added later is covered the moment it exists: the
last two rules give every read to viewers and every other write to operators.

Patterns are matched against the route's path *template* (`/api/training/training/jobs/{job_id}`),
never the concrete URL: `*` stands for one path segment, `**` for anything, including nothing.
The first rule that matches decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal

from mlsec.core.auth import Role

PUBLIC: Final = "public"
Requirement = Role | Literal["public"]

READ = frozenset({"GET", "HEAD"})
WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
POST = frozenset({"POST"})
DELETE = frozenset({"DELETE"})


def _glob(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*)", pattern)
    regex = "".join(".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the permission table; `methods` None means every method."""

    methods: frozenset[str] | None
    pattern: str
    need: Requirement
    what: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", _glob(self.pattern))

    def matches(self, method: str, path: str) -> bool:
        return (self.methods is None or method in self.methods) and self._regex.match(path) is not None


def _rules(methods: frozenset[str] | None, patterns: tuple[str, ...], need: Requirement, what: str) -> list[Rule]:
    return [Rule(methods, pattern, need, what) for pattern in patterns]


RULES: tuple[Rule, ...] = (
    # --- public: probes, sign-in, API docs, the dashboard's own files ---
    *_rules(READ, ("/health/live", "/health/ready"), PUBLIC, "liveness and readiness probes"),
    *_rules(POST, ("/auth/token",), PUBLIC, "sign-in: trade an API key or a password for a token"),
    *_rules(POST, ("/auth/session",), PUBLIC, "dashboard sign-in: a session cookie for a key or a password"),
    *_rules(READ, ("/docs", "/docs/**", "/openapi.json", "/redoc"), PUBLIC, "API documentation"),
    *_rules(READ, ("/", "/static/**", "/ui/**"), PUBLIC, "the dashboard's pages (each checks the session) and files"),
    *_rules(DELETE, ("/auth/session",), Role.VIEWER, "dashboard sign-out"),
    # --- admin: who may do what, configuration, irreversible privacy operations ---
    *_rules(None, ("/auth/keys", "/auth/keys/**"), Role.ADMIN, "API key management"),
    *_rules(None, ("/auth/users", "/auth/users/**"), Role.ADMIN, "user management"),
    *_rules(WRITE, ("**/config**",), Role.ADMIN, "configuration writes"),
    *_rules(WRITE, ("**clear-cache**",), Role.ADMIN, "clearing caches"),
    *_rules(DELETE, ("**/data-subjects/**",), Role.ADMIN, "erasing a data subject"),
    *_rules(WRITE, ("**/retention/cleanup**",), Role.ADMIN, "retention clean-up"),
    *_rules(WRITE, ("**/erase**",), Role.ADMIN, "privacy erasure"),
    *_rules(WRITE, ("**/privacy/**",), Role.ADMIN, "a data subject's rows and retention in each store"),
    *_rules(POST, ("**/anonymize/decrypt",), Role.ADMIN, "reversing an encrypted value (audited)"),
    *_rules(WRITE, ("**/audit/**",), Role.ADMIN, "writing to the audit log"),
    # --- viewer: reads that MLflow's API sends as POST ---
    *_rules(POST, ("/api/mlflow/**/search",), Role.VIEWER, "MLflow searches (read-only, sent as POST)"),
    # --- operator: using and changing models ---
    *_rules(WRITE, ("**/predict**", "**/infer", "**/invocations"), Role.OPERATOR, "predictions"),
    *_rules(WRITE, ("**/train", "**/train/**", "**/retrain**", "**/jobs**"), Role.OPERATOR, "training and jobs"),
    *_rules(WRITE, ("**/upload**",), Role.OPERATOR, "uploads"),
    *_rules(WRITE, ("**/load", "**/unload", "**/batch-load", "**/warm-cache**"), Role.OPERATOR, "loading models"),
    *_rules(POST, ("/api/business-metrics/reports/generate",), Role.OPERATOR, "generating a business report"),
    *_rules(WRITE, ("/api/business-metrics/slas/*",), Role.OPERATOR, "setting or removing a model's SLA"),
    # --- the defaults, which also cover every route added later ---
    *_rules(READ, ("**",), Role.VIEWER, "every other read"),
    *_rules(None, ("**",), Role.OPERATOR, "every other write"),
)


@lru_cache(maxsize=4096)
def requirement_for(method: str, path: str) -> Requirement:
    """What calling `method` on the route template `path` needs (the first matching rule decides)."""
    method = method.upper()
    for rule in RULES:
        if rule.matches(method, path):
            return rule.need
    raise AssertionError("unreachable: the last rule matches everything")  # pragma: no cover


def permission_table_markdown() -> str:
    """The rule table as the Markdown table docs/security.md shows."""
    lines = ["| # | methods | route template | needs | what |", "| --- | --- | --- | --- | --- |"]
    for number, rule in enumerate(RULES, start=1):
        methods = "any" if rule.methods is None else ", ".join(sorted(rule.methods))
        lines.append(f"| {number} | {methods} | `{rule.pattern}` | {rule.need} | {rule.what} |")
    return "\n".join(lines) + "\n"

"""The privacy page: the data-privacy service (port 8008) as a person uses it. Paste a text and see its findings
highlighted, its sensitivity level and why, and its anonymized form (the page's script, through the gateway's
`/api/data-privacy/classify` and `/anonymize`); the compliance verdict with each check and the violations; the
audit chain verified and its latest entries; the registered data subjects, one subject's consents and where
their data is (datasets, models, prediction log rows, the stores that could not be asked), and their erasure;
the retention policies with what is past its period now, and a dry run of the clean-up.

Everything read comes from the data-privacy service through the SDK (never the text a person pasted: that goes
from the page's script to the service and back, and is not rendered on the server). The writes go from the
script to the gateway's forwarded routes with the session's CSRF token, so the gateway's permission table
decides who may make them: classifying and anonymizing need an operator, erasing a subject and the retention
clean-up (even a dry run) an admin.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from mlsec.services.gateway.service.dashboard.monitoring import absent_on_404
from mlsec.services.gateway.service.dashboard.pages import Page, View, gather_parts, part

OPERATORS = ("replace", "mask", "redact", "hash", "encrypt", "pseudonymize")  # mlsec.ml.pii.anonymize.Operator
SUBJECTS_SHOWN = 50
AUDIT_SHOWN = 20
MAX_TEXT_CHARS = 100_000  # the data-privacy service's default MLSEC_DATA_PRIVACY_MAX_TEXT_CHARS
SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$")  # the service's own pattern (schemas/subjects.py)


def period(days: Any) -> str:
    """A retention period for a person ("kept forever" when there is none)."""
    if not isinstance(days, int) or isinstance(days, bool):
        return "kept forever"
    return "1 day" if days == 1 else f"{days:,} days"


def verify_summary(result: Mapping[str, Any]) -> str:
    """The audit chain's verification in one line: valid, or where it breaks and why."""
    if result.get("valid"):
        entries = int(result.get("entries") or 0)
        return f"valid: {entries:,} {'entry' if entries == 1 else 'entries'} verified"
    return f"broken at entry {result.get('broken_seq')}: {result.get('reason') or 'no reason given'}"


def retention_rows(policies: Mapping[str, Any], status: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per data category: its policy beside what is past its period now (None where status is unknown)."""
    outcomes = {str(o.get("category")): o for o in status.get("categories") or []}
    rows = []
    for policy in policies.get("policies") or []:
        outcome = outcomes.get(str(policy.get("category")))
        rows.append(
            {
                "category": policy.get("category"),
                "period": period(policy.get("max_age_days")),
                "source": policy.get("source"),
                "overdue": None if outcome is None else outcome.get("matched"),
                "complete": None if outcome is None else bool(outcome.get("complete")),
                "cutoff": None if outcome is None else outcome.get("cutoff"),
            }
        )
    return rows


def subject_view(detail: Mapping[str, Any]) -> dict[str, Any]:
    """A subject's detail for the template: consents by purpose, identifier types counted, unreachable stores."""
    types = Counter(str(i.get("entity_type")) for i in detail.get("identifiers") or [])
    return {
        "consents": sorted((detail.get("consents") or {}).items()),
        "identifier_types": sorted(types.items()),
        "unreachable": [s for s in detail.get("stores") or [] if not s.get("ok")],
        "erasable": detail.get("status") != "erased",
    }


def chosen_subject(view: View) -> str:
    """The subject whose detail the page shows (`?subject=`), "" when none or not a subject id."""
    subject_id = view.query.get("subject", "")
    return subject_id if SUBJECT_ID.match(subject_id) else ""


async def _compliance_status(view: View) -> dict[str, Any]:
    return {"compliance": await part(view.sdk.data_privacy.get_compliance_status())}


async def _compliance_violations(view: View) -> dict[str, Any]:
    return {"violations": await part(view.sdk.data_privacy.get_compliance_violations())}


async def compliance(view: View) -> dict[str, Any]:
    return await gather_parts(view, _compliance_status, _compliance_violations)


async def verify(view: View) -> dict[str, Any]:
    answer = await part(view.sdk.data_privacy.verify_audit_log())
    return {"verify": answer, "verify_summary": verify_summary(answer["data"]) if "data" in answer else ""}


async def audit(view: View) -> dict[str, Any]:
    return {"audit_logs": await part(view.sdk.data_privacy.get_audit_logs(limit=AUDIT_SHOWN))}


async def subjects(view: View) -> dict[str, Any]:
    return {"subjects": await part(view.sdk.data_privacy.get_data_subjects(limit=SUBJECTS_SHOWN))}


async def subject(view: View) -> dict[str, Any]:
    subject_id = chosen_subject(view)
    if not subject_id:
        return {"subject_id": "", "subject": {}}
    answer = await absent_on_404(
        view.sdk.data_privacy.get_data_subject(subject_id), f"There is no data subject {subject_id}."
    )
    return {"subject_id": subject_id, "subject": answer, **(subject_view(answer["data"]) if "data" in answer else {})}


async def _retention_policies(view: View) -> dict[str, Any]:
    return {"policies": await part(view.sdk.data_privacy.get_retention_policies())}


async def _retention_status(view: View) -> dict[str, Any]:
    return {"retention": await part(view.sdk.data_privacy.get_retention_status())}


async def retention(view: View) -> dict[str, Any]:
    parts = await gather_parts(view, _retention_policies, _retention_status)
    rows = retention_rows(parts["policies"].get("data") or {}, parts["retention"].get("data") or {})
    return {**parts, "retention_rows": rows}


async def load(view: View) -> dict[str, Any]:
    parts = await gather_parts(view, compliance, verify, audit, subjects, subject, retention)
    return {**parts, "operators": OPERATORS, "max_text_chars": MAX_TEXT_CHARS}


PAGE = Page(
    name="privacy",
    title="Privacy",
    load=load,
    partials={
        "compliance": compliance,
        "verify": verify,
        "audit": audit,
        "subjects": subjects,
        "subject": subject,
        "retention": retention,
    },
    topics=("training", "promotions"),  # a job or a promotion becomes an audit entry: the log is asked again
)

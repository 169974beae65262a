"""The privacy page through HTTP: the scan form (classify, anonymize, the operators) for operators and admins and
a note for a viewer; the compliance verdict with each check and the violations; the audit chain verified or
where it breaks, and the latest audit entries; the data subjects and one subject's detail (consents, datasets,
models, prediction log rows, the stores not reached) with "Erase" for an admin only; the retention policies
beside what is past its period, and "Dry run clean-up" for an admin only. A forged write is refused by the
gateway for a role below the route's; the data-privacy service down makes each part say "unavailable".

A unit test of the page's loaders and templates: where it needs the data-privacy service to answer, the SDK's
method is replaced by a double built from the service's own schemas (the real service's answers are the
browser test's part, tests/browser/)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from mlsec.client import ServiceCallError
from mlsec.client.main import MainAPIClient
from mlsec.core.auth import Role
from mlsec.services.data_privacy.schemas.audit import AuditPage, AuditRead, VerifyRead
from mlsec.services.data_privacy.schemas.compliance import CheckRead, ComplianceStatus, ViolationList, ViolationRead
from mlsec.services.data_privacy.schemas.retention import CategoryOutcome, PolicyList, PolicyRead, RetentionStatus
from mlsec.services.data_privacy.schemas.subjects import (
    ConsentInForce,
    IdentifierRead,
    StoreAnswer,
    SubjectDetail,
    SubjectPage,
    SubjectSummary,
)
from mlsec.services.gateway.service.dashboard import privacy
from tests.api.gateway.security_support import Gateway, sign_in_as

pytestmark = pytest.mark.anyio
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
PERSON = "person-42"
HASH = "0123456789abcdef0123456789abcdef"
PARTS = ("compliance", "verify", "audit", "subjects", "subject", "retention")

COMPLIANCE = ComplianceStatus(
    status="non_compliant",
    checked_at=NOW,
    checks=[
        CheckRead(name="consent", status="fail", detail="2 subjects checked, 1 without consent for training in force"),
        CheckRead(name="retention", status="pass", detail="prediction_logs: 0 overdue"),
        CheckRead(name="stores", status="unknown", detail="unreachable: model-cache"),
    ],
    violations=1,
).model_dump(mode="json")
VIOLATIONS = ViolationList(
    checked_at=NOW,
    violations=[
        ViolationRead(
            check="consent",
            severity="critical",
            message=f"data subject {PERSON} is in 1 dataset version(s) without consent <b>for training</b>",
            remedy="record the subject's consent for training, or erase the subject (DELETE /data-subjects/{id})",
            details={"subject_id": PERSON},
        )
    ],
    count=1,
).model_dump(mode="json")
VALID = VerifyRead(
    valid=True, entries=40, first_seq=1, head_seq=40, broken_seq=None, broken_id=None, reason=None
).model_dump(mode="json")
BROKEN = VerifyRead(
    valid=False, entries=7, first_seq=1, head_seq=40, broken_seq=7, broken_id=107, reason="the entry's hash differs"
).model_dump(mode="json")


def _entry(seq: int, action: str, target: str | None) -> AuditRead:
    return AuditRead(
        id=100 + seq,
        seq=seq,
        created_at=NOW,
        actor="admin",
        action=action,
        target=target,
        details={},
        prev_hash="0" * 64,
        hash="1" * 64,
    )


AUDIT = AuditPage(
    items=[_entry(40, "subject.registered", PERSON), _entry(39, "admin.key.created", None)],
    total=40,
    limit=20,
    offset=0,
).model_dump(mode="json")


def _summary(subject_id: str, status: str, identifiers: int) -> SubjectSummary:
    return SubjectSummary(
        id=subject_id,
        status=status,
        note=None,
        created_at=NOW,
        created_by="admin",
        erased_at=NOW if status == "erased" else None,
        identifiers=identifiers,
    )


SUBJECTS = SubjectPage(
    items=[_summary(PERSON, "active", 2), _summary("gone-1", "erased", 1)], total=3, limit=50, offset=0
).model_dump(mode="json")


def _detail(status: str = "active") -> dict[str, Any]:
    return SubjectDetail(
        id=PERSON,
        status=status,
        note="asked by e-mail",
        created_at=NOW,
        created_by="admin",
        erased_at=None,
        identifiers=[
            IdentifierRead(entity_type="EMAIL_ADDRESS", value_hash=HASH, created_at=NOW),
            IdentifierRead(entity_type="PHONE_NUMBER", value_hash=HASH[::-1], created_at=NOW),
        ],
        consents={
            "training": ConsentInForce(granted=False, version=2, recorded_at=NOW),
            "analytics": ConsentInForce(granted=True, version=1, recorded_at=NOW),
        },
        datasets=[{"name": "support-tickets", "version": 3, "rows": 4}],
        models=[
            {
                "model_name": "ticket-router",
                "model_version": "5",
                "run_id": "run-1",
                "job_id": "job-1",
                "dataset_name": "support-tickets",
                "dataset_version": 3,
            }
        ],
        prediction_log_rows={"model-api": 6, "model-cache": None},
        stores=[
            StoreAnswer(store="training", ok=True, answer={"datasets": []}, error=None),
            StoreAnswer(store="model-api", ok=True, answer={"rows": 6}, error=None),
            StoreAnswer(store="model-cache", ok=False, answer=None, error="unreachable: ConnectError"),
        ],
        erasures=[],
    ).model_dump(mode="json")


POLICIES = PolicyList(
    policies=[
        PolicyRead(category="prediction_logs", max_age_days=90, source="default", updated_at=None, updated_by=None),
        PolicyRead(category="datasets", max_age_days=None, source="default", updated_at=None, updated_by=None),
        PolicyRead(category="audit", max_age_days=1, source="set", updated_at=NOW, updated_by="admin"),
    ]
).model_dump(mode="json")
RETENTION = RetentionStatus(
    checked_at=NOW,
    categories=[
        CategoryOutcome(
            category="prediction_logs", max_age_days=90, cutoff=NOW, matched=1234, deleted=0, complete=False, stores=[]
        ),
        CategoryOutcome(
            category="datasets", max_age_days=None, cutoff=None, matched=0, deleted=0, complete=True, stores=[]
        ),
        CategoryOutcome(category="audit", max_age_days=1, cutoff=NOW, matched=0, deleted=0, complete=True, stores=[]),
    ],
    overdue=1234,
).model_dump(mode="json")


def _answer(value: Any) -> Any:
    async def answer(*args: Any, **kwargs: Any) -> Any:
        return value

    return answer


def _answering(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, *, verify: dict[str, Any] = VALID) -> None:
    """The data-privacy service answers the page's reads as a platform with two subjects would."""
    assert isinstance(gateway.app.state.sdk, MainAPIClient)
    service = gateway.app.state.sdk.data_privacy
    monkeypatch.setattr(service, "get_compliance_status", _answer(COMPLIANCE))
    monkeypatch.setattr(service, "get_compliance_violations", _answer(VIOLATIONS))
    monkeypatch.setattr(service, "verify_audit_log", _answer(verify))
    monkeypatch.setattr(service, "get_audit_logs", _answer(AUDIT))
    monkeypatch.setattr(service, "get_data_subjects", _answer(SUBJECTS))
    monkeypatch.setattr(service, "get_data_subject", _answer(_detail()))
    monkeypatch.setattr(service, "get_retention_policies", _answer(POLICIES))
    monkeypatch.setattr(service, "get_retention_status", _answer(RETENTION))


def _cells(text: str, table: str) -> list[list[str]]:
    """The text of each body row's cells of `table#<table>`, tags stripped."""
    body = text.split(f'<table id="{table}">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in row] for row in cells]


async def test_a_viewer_sees_the_page_without_any_write_control(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = await gateway.http.get(f"/ui/privacy?subject={PERSON}")
    assert page.status_code == 200
    text = page.text
    assert '<main id="content" data-page="privacy"' in text and "<title>Privacy" in text
    assert 'data-topics="training,promotions"' in text and 'src="/static/pages/privacy.js"' in text
    assert 'data-page="privacy" href="/ui/privacy"' in text  # in the navigation
    for element in (
        'id="scan-text"',
        'id="compliance-verdict"',
        'id="audit-verify"',
        'id="audit-log"',
        'id="subjects"',
        'id="subject-detail"',
        'id="retention"',
        'id="audit-verify-button"',
    ):
        assert element in text, element
    assert "Your role may look, not classify or anonymize." in text
    assert "write-control" not in text and "admin-control" not in text
    for control in ('id="scan-classify"', 'id="scan-anonymize"', 'id="retention-dry-run"', 'id="subject-erase"'):
        assert control not in text, control
    assert "<script>" not in text.split("<main", 1)[1]  # the page's script is a file, never inline
    script = await gateway.http.get("/static/pages/privacy.js")
    assert script.status_code == 200  # findings are built as text nodes, never parsed as HTML
    assert ".innerHTML" not in script.text and "insertAdjacentHTML" not in script.text


async def test_an_operator_may_classify_and_anonymize_but_not_erase_or_clean_up(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    _answering(gateway, monkeypatch)
    text = (await gateway.http.get(f"/ui/privacy?subject={PERSON}")).text
    assert '<button id="scan-classify" class="write-control" type="submit">Classify</button>' in text
    assert '<button id="scan-anonymize" class="write-control" type="button">Anonymize</button>' in text
    options = re.findall(r'<option value="(\w+)">', text.split('id="scan-operator"', 1)[1].split("</select>", 1)[0])
    assert options == ["replace", "mask", "redact", "hash", "encrypt", "pseudonymize"]
    assert 'maxlength="100000"' in text
    assert "admin-control" not in text and 'id="subject-erase"' not in text and 'id="retention-dry-run"' not in text


async def test_an_admin_gets_erase_for_a_subject_not_yet_erased_and_the_dry_run(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.ADMIN)
    _answering(gateway, monkeypatch)
    text = (await gateway.http.get("/ui/privacy")).text
    assert '<button id="retention-dry-run" class="write-control admin-control" type="button">' in text
    assert 'id="subject-erase"' not in text  # no subject chosen yet
    detail = (await gateway.http.get(f"/ui/privacy/partials/subject?subject={PERSON}")).text
    assert f'id="subject-erase" class="write-control admin-control danger" type="button" data-subject="{PERSON}"' in (
        detail
    )
    monkeypatch.setattr(gateway.app.state.sdk.data_privacy, "get_data_subject", _answer(_detail("erased")))
    erased = (await gateway.http.get(f"/ui/privacy/partials/subject?subject={PERSON}")).text
    assert 'data-status="erased"' in erased and 'id="subject-erase"' not in erased


async def test_compliance_shows_the_verdict_each_check_and_the_violations(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    part = await gateway.http.get("/ui/privacy/partials/compliance")
    assert part.status_code == 200 and "<html" not in part.text
    text = part.text
    assert 'class="badge verdict-non_compliant" data-status="non_compliant">non compliant</span>' in text
    assert "1 violation;" in text
    checks = re.findall(r'<li data-check="(\w+)" data-status="(\w+)"><span class="badge check-(\w+)">', text)
    assert checks == [("consent", "fail", "fail"), ("retention", "pass", "pass"), ("stores", "unknown", "unknown")]
    assert "unreachable: model-cache" in text
    assert _cells(text, "violations") == [
        [
            "critical",
            "consent",
            f"data subject {PERSON} is in 1 dataset version(s) without consent &lt;b&gt;for training&lt;/b&gt;",
            "record the subject&#39;s consent for training, or erase the subject (DELETE /data-subjects/{id})",
        ]
    ]
    assert '<td class="severity-critical">critical</td>' in text


async def test_the_audit_chain_says_valid_or_where_it_breaks_and_the_log_lists_the_latest_entries(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    valid = (await gateway.http.get("/ui/privacy/partials/verify")).text
    assert 'id="audit-verify" data-valid="true"' in valid and "valid: 40 entries verified" in valid
    assert "Entries 1 to 40." in valid
    monkeypatch.setattr(gateway.app.state.sdk.data_privacy, "verify_audit_log", _answer(BROKEN))
    broken = (await gateway.http.get("/ui/privacy/partials/verify")).text
    assert 'data-valid="false" data-broken-seq="7"' in broken
    assert "broken at entry 7: the entry&#39;s hash differs" in broken
    log = (await gateway.http.get("/ui/privacy/partials/audit")).text
    assert _cells(log, "audit-log") == [
        ["40", "2025-05-01 12:00:00", "admin", "subject.registered", PERSON],
        ["39", "2025-05-01 12:00:00", "admin", "admin.key.created", "-"],
    ]
    assert "The latest 2 of 40 entries." in log


async def test_subjects_are_listed_and_one_shows_where_their_data_is(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    listed = (await gateway.http.get("/ui/privacy/partials/subjects")).text
    assert [row[1:] for row in _cells(listed, "subjects")] == [
        ["active", "2", "2025-05-01 12:00:00"],
        ["erased", "1", "2025-05-01 12:00:00"],
    ]
    assert f'<button class="show-subject link-button" type="button" data-subject="{PERSON}">' in listed
    assert "1 more not shown." in listed

    text = (await gateway.http.get(f"/ui/privacy/partials/subject?subject={PERSON}")).text
    assert f'<article id="subject-detail" data-subject="{PERSON}" data-status="active"' in text
    assert "EMAIL_ADDRESS 1, PHONE_NUMBER 1" in text and HASH not in text  # types counted, no hash shown
    consents = re.findall(r'<li data-purpose="(\w+)" data-granted="(\w+)">', text)
    assert consents == [("analytics", "true"), ("training", "false")]
    assert '<li data-dataset="support-tickets" data-version="3">support-tickets v3: 4 rows</li>' in text
    assert '<li data-model="ticket-router" data-version="5">ticket-router v5' in text
    rows = re.findall(r'<li data-store="([\w-]+)">[\w-]+: (\w+)</li>', text)
    assert rows == [("model-api", "6"), ("model-cache", "unknown")]
    assert 'id="subject-unreachable"' in text and "model-cache (unreachable: ConnectError)" in text


async def test_a_subject_unknown_or_not_a_subject_id_says_so(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    await sign_in_as(gateway, Role.ADMIN)

    async def missing(subject_id: str) -> Any:
        raise ServiceCallError("data-privacy", "no such subject", status_code=404)

    monkeypatch.setattr(gateway.app.state.sdk.data_privacy, "get_data_subject", missing)
    unknown = (await gateway.http.get("/ui/privacy/partials/subject?subject=nobody")).text
    assert "There is no data subject nobody." in unknown and "subject-erase" not in unknown
    for query in ("", "?subject=", "?subject=..%2Fsecrets", "?subject=%3Cscript%3E"):
        answer = await gateway.http.get(f"/ui/privacy/partials/subject{query}")
        assert answer.status_code == 200 and "Choose a subject" in answer.text, query


async def test_retention_shows_each_policy_beside_what_is_past_its_period(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    text = (await gateway.http.get("/ui/privacy/partials/retention")).text
    assert _cells(text, "retention") == [
        ["prediction logs", "90 days", "1,234", "no: a store did not answer"],
        ["datasets", "kept forever", "0", "yes"],
        ["audit", "1 day (set)", "0", "yes"],
    ]
    assert "1,234 items past their period" in text

    async def down() -> Any:
        raise ServiceCallError("data-privacy", "unreachable", error_type="unreachable")

    monkeypatch.setattr(gateway.app.state.sdk.data_privacy, "get_retention_status", down)
    text = (await gateway.http.get("/ui/privacy/partials/retention")).text
    assert [row[2:] for row in _cells(text, "retention")] == [["-", "-"]] * 3  # the policies still shown
    assert "Retention status unavailable: data-privacy: unreachable" in text


async def test_forged_writes_are_refused_below_each_routes_role(gateway: Gateway) -> None:
    text = {"text": "mail jane.doe@example.com"}
    operator_writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/api/data-privacy/classify", text),
        ("POST", "/api/data-privacy/anonymize", {**text, "operator": "mask"}),
    ]
    admin_writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("DELETE", f"/api/data-privacy/data-subjects/{PERSON}", None),
        ("POST", "/api/data-privacy/retention/cleanup", {"dry_run": True}),
    ]
    csrf = await sign_in_as(gateway, Role.VIEWER)
    for method, path, body in [*operator_writes, *admin_writes]:
        refused = await gateway.http.request(method, path, json=body, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 403, (method, path, refused.text)
    csrf = await sign_in_as(gateway, Role.OPERATOR)
    for method, path, body in operator_writes:
        assert (await gateway.http.request(method, path, json=body)).status_code == 403  # no token: refused
        passed = await gateway.http.request(method, path, json=body, headers={"X-CSRF-Token": csrf})
        assert passed.status_code == 503, (method, path, passed.text)  # let through; nothing answers here
    for method, path, body in admin_writes:
        refused = await gateway.http.request(method, path, json=body, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 403, (method, path, refused.text)
    csrf = await sign_in_as(gateway, Role.ADMIN)
    for method, path, body in admin_writes:
        passed = await gateway.http.request(method, path, json=body, headers={"X-CSRF-Token": csrf})
        assert passed.status_code == 503, (method, path, passed.text)


async def test_with_the_data_privacy_service_down_every_part_says_so(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.ADMIN)
    page = await gateway.http.get(f"/ui/privacy?subject={PERSON}")
    assert page.status_code == 200 and '<main id="content" data-page="privacy"' in page.text
    # compliance and violations, verify, audit log, subjects, the subject, retention (said once)
    assert page.text.count("unavailable: data-privacy:") == 7
    assert 'id="scan-classify"' in page.text and 'id="retention-dry-run"' in page.text  # usable once it is back
    for name in PARTS:
        answer = await gateway.http.get(f"/ui/privacy/partials/{name}?subject={PERSON}")
        assert answer.status_code == 200, name
        assert re.search(r"unavailable: data-privacy: (unreachable|circuit open)", answer.text), name


def test_periods_verification_and_retention_rows_read_as_a_person_would_say_them() -> None:
    assert [privacy.period(days) for days in (None, 1, 90, 2190, True)] == [
        "kept forever",
        "1 day",
        "90 days",
        "2,190 days",
        "kept forever",
    ]
    assert privacy.verify_summary(VALID) == "valid: 40 entries verified"
    assert privacy.verify_summary({**VALID, "entries": 1}) == "valid: 1 entry verified"
    assert privacy.verify_summary(BROKEN) == "broken at entry 7: the entry's hash differs"
    rows = privacy.retention_rows(POLICIES, {"categories": RETENTION["categories"][:1]})
    assert [(row["category"], row["overdue"], row["complete"]) for row in rows] == [
        ("prediction_logs", 1234, False),
        ("datasets", None, None),
        ("audit", None, None),
    ]

"""The SLA promotion criterion: a broken objective fails the decision, unmeasured figures follow the policy."""

from __future__ import annotations

import numpy as np

from mlsec.ml.promotion import PromotionCriteria, SlaObjective, evaluate_promotion, sla_check, sla_unavailable

LATENCY = SlaObjective("latency_p99_ms", 250.0, higher_is_better=False)
AVAILABILITY = SlaObjective("availability", 0.99, higher_is_better=True)
ERRORS = SlaObjective("error_rate", 0.01, higher_is_better=False)


def test_a_broken_objective_fails_and_names_the_objective() -> None:
    figures = {"latency_p99_ms": 310.0, "availability": 0.995, "error_rate": 0.0}
    check = sla_check([LATENCY, AVAILABILITY, ERRORS], figures, source="v2", unmeasured="pass")
    assert (check.name, check.passed, check.observed, check.applicable) == ("sla", False, 1.0, True)
    assert "latency_p99_ms 310 > 250" in check.detail and "availability 0.995 >= 0.99" in check.detail
    low = sla_check([AVAILABILITY], {"availability": 0.9}, source="v2", unmeasured="pass")
    assert not low.passed and "availability 0.9 < 0.99" in low.detail


def test_met_objectives_pass_and_an_unmeasured_one_is_named() -> None:
    figures = {"latency_p99_ms": 250.0, "availability": None}
    check = sla_check([LATENCY, AVAILABILITY], figures, source="v2", unmeasured="reject")
    assert check.passed and check.observed == 0.0 and "not measured: availability" in check.detail


def test_nothing_measured_follows_the_policy() -> None:
    nothing = {"latency_p99_ms": None}
    passed = sla_check([LATENCY], nothing, source="v2: 0 predictions", unmeasured="pass")
    refused = sla_check([LATENCY], nothing, source="v2: 0 predictions", unmeasured="reject")
    assert passed.passed and "could not be judged" in passed.detail and "0 predictions" in passed.detail
    assert not refused.passed and "could not be judged" in refused.detail


def test_an_sla_check_decides_the_promotion() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 400).astype(str)
    champion = np.where(rng.random(400) < 0.7, truth, 1 - truth.astype(int)).astype(str)
    challenger = truth.copy()  # perfect: every other check passes
    criteria = PromotionCriteria(max_redteam_drop=None, n_resamples=200)
    broken = sla_check([LATENCY], {"latency_p99_ms": 900.0}, source="v2", unmeasured="pass")
    kept = evaluate_promotion(truth, champion, challenger, criteria=criteria, extra_checks=(broken,))
    assert not kept.promote and [c.name for c in kept.failed] == ["sla"]
    assert kept.to_dict()["checks"][-1]["detail"].startswith("the challenger breaks the SLA")
    met = sla_check([LATENCY], {"latency_p99_ms": 90.0}, source="v2", unmeasured="pass")
    assert evaluate_promotion(truth, champion, challenger, criteria=criteria, extra_checks=(met,)).promote
    down = sla_unavailable("business-metrics did not give the SLA figures (unreachable)")
    refused = evaluate_promotion(truth, champion, challenger, criteria=criteria, extra_checks=(down,))
    assert not refused.promote and "nothing is promoted" in refused.failed[0].detail

"""Champion against challenger: McNemar and the paired bootstrap against hand computations and SciPy,
and every promotion check passing and failing."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from mlsec.ml.promotion import (
    PromotionCriteria,
    PromotionDecision,
    bootstrap_f1_difference,
    evaluate_promotion,
    mcnemar,
    mcnemar_from_counts,
    significance,
)

Case = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]


def discordant(b: int, c: int, both_right: int = 5, both_wrong: int = 2) -> Case:
    """Labels with exactly b rows only the champion gets right and c rows only the challenger gets right."""
    size = b + c + both_right + both_wrong
    truth = np.resize(np.array(["1", "0"]), size)
    wrong = np.where(truth == "1", "0", "1")
    agree = size - both_wrong  # rows [b + c, agree) both get right, rows [agree, size) both get wrong
    champion = np.concatenate([truth[:b], wrong[b : b + c], truth[b + c : agree], wrong[agree:]])
    challenger = np.concatenate([wrong[:b], truth[b : b + c], truth[b + c : agree], wrong[agree:]])
    return truth, champion, challenger


def noisy(truth: np.ndarray[Any, Any], accuracy: float, seed: int) -> np.ndarray[Any, Any]:
    flip = np.random.default_rng(seed).random(truth.shape[0]) >= accuracy
    return np.where(flip, np.where(truth == "1", "0", "1"), truth)


@pytest.fixture(scope="module")
def better() -> Case:
    """400 rows: the champion is right on about 80% of them, the challenger on about 93%."""
    truth = np.random.default_rng(0).choice(["0", "1"], 400)
    return truth, noisy(truth, 0.80, 1), noisy(truth, 0.93, 2)


def sk_f1(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> float:
    return float(skm.f1_score(truth, predicted, pos_label="1", zero_division=0))


# --- McNemar ------------------------------------------------------------------------------------------------


def test_mcnemar_counts_the_discordant_rows() -> None:
    truth = ["1", "1", "0", "0", "1", "0"]
    champion = ["1", "0", "0", "1", "1", "0"]  # right, wrong, right, wrong, right, right
    challenger = ["0", "1", "0", "0", "1", "1"]  # wrong, right, right, right, right, wrong
    result = mcnemar(truth, champion, challenger)
    assert (result.b, result.c, result.n) == (2, 2, 6)


def test_mcnemar_exact_p_value_by_hand() -> None:
    # b = 1, c = 6: P(X <= 1) for X ~ Bin(7, 1/2) is (1 + 7) / 128, and the two-sided p doubles it.
    result = mcnemar(*discordant(1, 6))
    hand = float(2 * Fraction(math.comb(7, 0) + math.comb(7, 1), 2**7))
    assert hand == 0.125
    assert (result.b, result.c, result.method, result.statistic) == (1, 6, "exact", 1.0)
    assert result.p_value == pytest.approx(hand, abs=1e-12)


@pytest.mark.parametrize(("b", "c"), [(0, 1), (1, 0), (3, 3), (2, 10), (12, 12), (0, 24), (10, 14), (11, 12)])
def test_mcnemar_exact_equals_scipy_binomtest(b: int, c: int) -> None:
    result = mcnemar_from_counts(b, c, 100)
    assert result.method == "exact"
    assert result.p_value == pytest.approx(stats.binomtest(min(b, c), b + c, 0.5).pvalue, abs=1e-12)


@pytest.mark.parametrize(("b", "c"), [(10, 15), (15, 10), (30, 70), (50, 52)])
def test_mcnemar_chi2_with_continuity_correction(b: int, c: int) -> None:
    result = mcnemar_from_counts(b, c)
    statistic = (abs(b - c) - 1) ** 2 / (b + c)
    assert result.method == "chi2-corrected"
    assert result.statistic == pytest.approx(statistic, abs=1e-12)
    assert result.p_value == pytest.approx(stats.chi2.sf(statistic, 1), abs=1e-12)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(statistic / 2)), abs=1e-12)  # chi2(1) tail


def test_mcnemar_textbook_example() -> None:
    # Wikipedia's McNemar example (a=101, b=121, c=59, d=33): uncorrected chi2 = 62^2 / 180 = 21.35;
    # Edwards' correction makes it 61^2 / 180 = 20.672..., p = erfc(sqrt(20.672 / 2)) ~ 5.4e-6.
    uncorrected = (121 - 59) ** 2 / 180
    assert uncorrected == pytest.approx(21.35, abs=0.01)
    result = mcnemar_from_counts(121, 59, 101 + 121 + 59 + 33)
    assert result.statistic == pytest.approx(3721 / 180, abs=1e-12)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(3721 / 360)), rel=1e-9)
    assert 5e-6 < result.p_value < 6e-6
    assert result.n == 314


def test_mcnemar_switches_to_chi2_at_25_discordant_pairs() -> None:
    assert mcnemar_from_counts(10, 14).method == "exact"
    assert mcnemar_from_counts(10, 15).method == "chi2-corrected"


def test_discordant_helper_builds_what_it_says() -> None:
    for both_wrong in (0, 3):
        truth, champion, challenger = discordant(4, 7, both_right=2, both_wrong=both_wrong)
        assert truth.shape[0] == 13 + both_wrong
        assert int(np.sum((champion == truth) & (challenger != truth))) == 4
        assert int(np.sum((champion != truth) & (challenger == truth))) == 7
        assert int(np.sum((champion != truth) & (challenger != truth))) == both_wrong


def test_mcnemar_without_disagreement_is_no_evidence() -> None:
    truth = np.array(["1", "0", "1"])
    result = mcnemar(truth, truth, truth)
    assert (result.b, result.c, result.statistic, result.p_value) == (0, 0, 0.0, 1.0)


def test_mcnemar_reads_integer_and_string_labels_alike() -> None:
    truth, champion, challenger = discordant(3, 8)
    as_ints = mcnemar(truth.astype(int), champion.astype(int).tolist(), challenger)
    assert as_ints == mcnemar(truth, champion, challenger)


def test_mcnemar_from_counts_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="b \\+ c <= n"):
        mcnemar_from_counts(5, 5, 9)
    with pytest.raises(ValueError, match="0 <= b"):
        mcnemar_from_counts(-1, 5)


# --- paired bootstrap -----------------------------------------------------------------------------------------


def test_bootstrap_observed_difference_equals_sklearn(better: Case) -> None:
    truth, champion, challenger = better
    result = bootstrap_f1_difference(truth, champion, challenger, n_resamples=200)
    assert result.champion_f1 == pytest.approx(sk_f1(truth, champion), abs=1e-12)
    assert result.challenger_f1 == pytest.approx(sk_f1(truth, challenger), abs=1e-12)
    assert result.observed_difference == pytest.approx(sk_f1(truth, challenger) - sk_f1(truth, champion), abs=1e-12)


def test_bootstrap_is_deterministic_in_its_seed(better: Case) -> None:
    first = bootstrap_f1_difference(*better, seed=3)
    assert bootstrap_f1_difference(*better, seed=3) == first
    other = bootstrap_f1_difference(*better, seed=4)
    assert (other.lower, other.upper) != (first.lower, first.upper)


def test_bootstrap_chunks_do_not_change_the_result(better: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = bootstrap_f1_difference(*better, n_resamples=500)
    monkeypatch.setattr(significance, "_RESAMPLE_CHUNK", 64)
    assert bootstrap_f1_difference(*better, n_resamples=500) == whole


def test_bootstrap_interval_of_a_clearly_better_challenger_is_above_zero(better: Case) -> None:
    result = bootstrap_f1_difference(*better)
    assert 0 < result.lower < result.observed_difference < result.upper
    assert result.challenger_better_share > 0.99
    assert (result.confidence, result.n_resamples) == (0.95, 2000)


def test_bootstrap_of_identical_predictions_is_exactly_zero(better: Case) -> None:
    truth, champion, _ = better
    result = bootstrap_f1_difference(truth, champion, champion)
    assert (result.observed_difference, result.lower, result.upper) == (0.0, 0.0, 0.0)
    assert result.challenger_better_share == 0.0


def test_bootstrap_f1_without_any_positive_is_zero() -> None:
    truth = np.array(["0"] * 10)
    result = bootstrap_f1_difference(truth, truth, truth, n_resamples=50)
    assert result.champion_f1 == result.challenger_f1 == sk_f1(truth, truth) == 0.0


def test_bootstrap_interval_is_close_to_scipy_paired_percentile() -> None:
    truth = np.random.default_rng(5).choice(["0", "1"], 200)
    champion, challenger = noisy(truth, 0.8, 6), noisy(truth, 0.88, 7)

    def f1_gain(y: Any, a: Any, b: Any, axis: int) -> Any:
        def f1(predicted: Any) -> Any:
            tp = ((y == 1) & (predicted == 1)).sum(axis)
            return 2 * tp / (2 * tp + ((y == 0) & (predicted == 1)).sum(axis) + ((y == 1) & (predicted == 0)).sum(axis))

        return f1(b) - f1(a)

    ours = bootstrap_f1_difference(truth, champion, challenger, n_resamples=2000, seed=0)
    data = tuple(array.astype(int) for array in (truth, champion, challenger))
    theirs = stats.bootstrap(
        data, f1_gain, paired=True, vectorized=True, method="percentile", n_resamples=2000, random_state=0
    ).confidence_interval
    width = theirs.high - theirs.low
    assert abs(ours.lower - theirs.low) < 0.25 * width
    assert abs(ours.upper - theirs.high) < 0.25 * width


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_resamples": 0}, "n_resamples"), ({"n_resamples": True}, "n_resamples"), ({"confidence": 1.0}, "confidence")],
)
def test_bootstrap_validates_its_settings(better: Case, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bootstrap_f1_difference(*better, **kwargs)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ((["1", "0"], ["1"], ["1", "0"]), "differ in length"),
        (([], [], []), "empty"),
        (([["1"]], [["1"]], [["1"]]), "one-dimensional"),
    ],
)
def test_paired_inputs_are_validated(arrays: tuple[Any, Any, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mcnemar(*arrays)
    with pytest.raises(ValueError, match=message):
        bootstrap_f1_difference(*arrays)
    with pytest.raises(ValueError, match=message):
        evaluate_promotion(*arrays, criteria=PromotionCriteria())


# --- criteria ---------------------------------------------------------------------------------------------------


def test_criteria_defaults() -> None:
    criteria = PromotionCriteria()
    assert (criteria.alpha, criteria.min_f1_gain, criteria.max_latency_ms) == (0.05, 0.0, None)
    assert (criteria.max_redteam_drop, criteria.require_significance, criteria.n_resamples) == (0.0, True, 2000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"min_f1_gain": -0.01}, "min_f1_gain"),
        ({"min_f1_gain": 1.0}, "min_f1_gain"),
        ({"max_latency_ms": 0}, "max_latency_ms"),
        ({"max_latency_ms": float("inf")}, "max_latency_ms"),
        ({"max_redteam_drop": 1.5}, "max_redteam_drop"),
        ({"max_redteam_drop": -0.1}, "max_redteam_drop"),
        ({"require_significance": 1}, "require_significance"),
        ({"n_resamples": 0}, "n_resamples"),
        ({"n_resamples": 10.0}, "n_resamples"),
    ],
)
def test_criteria_are_validated(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PromotionCriteria(**kwargs)


def test_criteria_store_plain_numbers() -> None:
    numpy_values: dict[str, Any] = {
        "alpha": np.float32(0.1),
        "max_latency_ms": np.int64(40),
        "n_resamples": np.int64(500),
    }
    criteria = PromotionCriteria(**numpy_values)
    assert type(criteria.alpha) is float and type(criteria.max_latency_ms) is float
    assert type(criteria.n_resamples) is int
    json.dumps(criteria.to_dict(), allow_nan=False)


# --- the decision ----------------------------------------------------------------------------------------------


def decide(case: Case, criteria: PromotionCriteria | None = None, **kwargs: Any) -> PromotionDecision:
    given: dict[str, Any] = {"champion_redteam_rate": 0.8, "challenger_redteam_rate": 0.85} | kwargs
    return evaluate_promotion(*case, criteria=criteria or PromotionCriteria(n_resamples=500), **given)


def check(decision: PromotionDecision, name: str) -> Any:
    return next(item for item in decision.checks if item.name == name)


def test_a_clearly_better_challenger_is_promoted(better: Case) -> None:
    criteria = PromotionCriteria(max_latency_ms=50, n_resamples=500)
    decision = decide(better, criteria, champion_latency_ms=20.0, challenger_latency_ms=30.0)
    assert decision.promote, decision.summary
    assert [item.name for item in decision.checks] == [
        "significance",
        "f1_gain",
        "f1_gain_interval",
        "latency",
        "redteam",
    ]
    assert all(item.passed and item.applicable for item in decision.checks)
    assert decision.failed == ()
    assert decision.summary == "promote the challenger: all 5 applicable checks passed"


def test_decision_metrics_equal_sklearn(better: Case) -> None:
    truth, champion, challenger = better
    decision = decide(better)
    for metrics, predicted in ((decision.champion, champion), (decision.challenger, challenger)):
        assert metrics.accuracy == pytest.approx(skm.accuracy_score(truth, predicted))
        assert metrics.precision == pytest.approx(skm.precision_score(truth, predicted, pos_label="1"))
        assert metrics.recall == pytest.approx(skm.recall_score(truth, predicted, pos_label="1"))
        assert metrics.f1 == pytest.approx(sk_f1(truth, predicted))
        assert metrics.tp + metrics.fp + metrics.fn + metrics.tn == truth.shape[0]
    assert decision.mcnemar == mcnemar(*better)
    assert decision.bootstrap.confidence == pytest.approx(0.95)


def test_a_worse_challenger_fails_significance_and_f1(better: Case) -> None:
    truth, champion, challenger = better
    decision = decide((truth, challenger, champion))
    assert not decision.promote
    assert {item.name for item in decision.failed} == {"significance", "f1_gain", "f1_gain_interval"}
    assert "does not make fewer errors" in check(decision, "significance").detail
    assert decision.summary.startswith("keep the champion: failed significance")


def test_a_small_gain_is_not_significant() -> None:
    decision = decide(discordant(3, 6, both_right=80, both_wrong=5))
    significance = check(decision, "significance")
    assert not significance.passed and significance.observed > 0.05
    assert "not significant" in significance.detail
    assert not decision.promote


def test_significance_can_be_switched_off() -> None:
    decision = decide(discordant(3, 6, both_right=80, both_wrong=5), PromotionCriteria(require_significance=False))
    significance = check(decision, "significance")
    assert significance.passed and not significance.applicable
    assert "significance" not in [item.name for item in decision.failed]


def test_min_f1_gain_is_required(better: Case) -> None:
    decision = decide(better, PromotionCriteria(min_f1_gain=0.5, n_resamples=500))
    gain = check(decision, "f1_gain")
    assert not gain.passed and gain.required == ">= 0.5"
    assert gain.observed == pytest.approx(decision.bootstrap.observed_difference)
    assert [item.name for item in decision.failed] == ["f1_gain"]


def test_an_interval_touching_zero_fails_even_when_the_gain_is_positive() -> None:
    decision = decide(discordant(4, 6, both_right=60, both_wrong=6), PromotionCriteria(require_significance=False))
    assert check(decision, "f1_gain").passed
    interval = check(decision, "f1_gain_interval")
    assert not interval.passed and interval.observed <= 0
    assert [item.name for item in decision.failed] == ["f1_gain_interval"]


@pytest.mark.parametrize(
    ("latency", "passed", "detail"),
    [(30.0, True, "challenger p50 latency 30 ms"), (60.0, False, "60 ms"), (None, False, "was not given")],
)
def test_latency_check(better: Case, latency: float | None, passed: bool, detail: str) -> None:
    decision = decide(better, PromotionCriteria(max_latency_ms=50, n_resamples=500), challenger_latency_ms=latency)
    latency_check = check(decision, "latency")
    assert latency_check.passed is passed and latency_check.applicable
    assert detail in latency_check.detail
    assert decision.promote is passed


def test_latency_is_not_checked_without_a_limit(better: Case) -> None:
    decision = decide(better)
    latency = check(decision, "latency")
    assert latency.passed and not latency.applicable and "max_latency_ms is None" in latency.detail
    assert decision.promote


@pytest.mark.parametrize(
    ("drop", "champion", "challenger", "passed"),
    [(0.0, 0.8, 0.8, True), (0.0, 0.8, 0.79, False), (0.05, 0.8, 0.75, True), (0.05, 0.8, 0.74, False)],
)
def test_redteam_check(better: Case, drop: float, champion: float, challenger: float, passed: bool) -> None:
    criteria = PromotionCriteria(max_redteam_drop=drop, n_resamples=500)
    decision = decide(better, criteria, champion_redteam_rate=champion, challenger_redteam_rate=challenger)
    assert check(decision, "redteam").passed is passed
    assert decision.promote is passed


@pytest.mark.parametrize("missing", ["champion_redteam_rate", "challenger_redteam_rate"])
def test_redteam_check_fails_when_a_rate_is_missing(better: Case, missing: str) -> None:
    decision = decide(better, **{missing: None})
    redteam = check(decision, "redteam")
    assert not redteam.passed and f"{missing} not given" in redteam.detail
    assert not decision.promote


def test_redteam_is_not_checked_when_switched_off(better: Case) -> None:
    criteria = PromotionCriteria(max_redteam_drop=None, n_resamples=500)
    decision = decide(better, criteria, champion_redteam_rate=None, challenger_redteam_rate=None)
    assert not check(decision, "redteam").applicable
    assert decision.promote


def test_decision_to_dict_is_complete_json(better: Case) -> None:
    truth, champion, challenger = better
    decision = evaluate_promotion(
        truth.astype(int),  # integer labels read as "0"/"1"
        champion,
        challenger.tolist(),
        criteria=PromotionCriteria(max_latency_ms=np.float64(50), n_resamples=300),
        champion_latency_ms=np.float64(12.5),
        challenger_latency_ms=float(np.float32(20.0)),
        champion_redteam_rate=np.float64(0.9),
        challenger_redteam_rate=0.7,
    )
    evidence = decision.to_dict()
    assert json.loads(json.dumps(evidence, allow_nan=False)) == evidence
    assert evidence["promote"] is False and evidence["failed_checks"] == ["redteam"]
    assert set(evidence) >= {"checks", "metrics", "mcnemar", "bootstrap", "criteria", "latency_ms", "labels"}
    assert evidence["latency_ms"] == {"champion": 12.5, "challenger": 20.0}
    assert evidence["metrics"]["challenger"]["f1"] == pytest.approx(sk_f1(truth, challenger))
    assert {"name", "passed", "observed", "required", "detail", "applicable"} == set(evidence["checks"][0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"champion_latency_ms": -1.0}, "champion_latency_ms"),
        ({"challenger_latency_ms": float("nan")}, "challenger_latency_ms"),
        ({"champion_redteam_rate": 1.2}, "champion_redteam_rate"),
        ({"challenger_redteam_rate": True}, "challenger_redteam_rate"),
        ({"positive_label": "0"}, "both '0'"),
    ],
)
def test_decision_inputs_are_validated(better: Case, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decide(better, **kwargs)


def test_labels_outside_the_two_classes_are_refused() -> None:
    with pytest.raises(ValueError, match="pred_challenger has labels other than '0' and '1': '2'"):
        evaluate_promotion(["0", "1"], ["0", "1"], ["0", "2"], criteria=PromotionCriteria())
    with pytest.raises(ValueError, match="y_true"):
        evaluate_promotion(["benign", "1"], ["0", "1"], ["0", "1"], criteria=PromotionCriteria())
    decision = evaluate_promotion(
        ["ok", "bad"],
        ["ok", "bad"],
        ["ok", "ok"],
        criteria=PromotionCriteria(),
        positive_label="bad",
        negative_label="ok",
    )
    assert decision.champion.tp == 1 and decision.challenger.fn == 1

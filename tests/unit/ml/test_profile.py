"""Reference profiles: exact text features, NaN-free JSON, seeded samples."""

from __future__ import annotations

import json
import unicodedata

import numpy as np
import pandas as pd
import pytest

from mlsec.ml import profile
from mlsec.ml.profile import (
    TEXT_FEATURES,
    build_tabular_profile,
    build_text_profile,
    categorical_profile,
    numeric_profile,
    text_features,
)


def features_of(text: str) -> dict[str, float]:
    return {name: float(values[0]) for name, values in text_features([text]).items()}


def test_text_features_on_hand_computed_examples() -> None:
    assert features_of("Hello World 42!") == pytest.approx(
        {
            "length": 15,
            "word_count": 3,
            "upper_ratio": 2 / 15,
            "digit_ratio": 2 / 15,
            "punct_ratio": 1 / 15,
            "whitespace_ratio": 2 / 15,
            "non_ascii_ratio": 0,
        }
    )
    # Ü is upper case and non-ASCII, ï non-ASCII, ✓ a symbol (counted with punctuation) and non-ASCII.
    assert features_of("Ünïcode ✓") == pytest.approx(
        {
            "length": 9,
            "word_count": 2,
            "upper_ratio": 1 / 9,
            "digit_ratio": 0,
            "punct_ratio": 1 / 9,
            "whitespace_ratio": 1 / 9,
            "non_ascii_ratio": 3 / 9,
        }
    )
    assert features_of("  a\tb\n") == pytest.approx(
        {
            "length": 6,
            "word_count": 2,
            "upper_ratio": 0,
            "digit_ratio": 0,
            "punct_ratio": 0,
            "whitespace_ratio": 4 / 6,
            "non_ascii_ratio": 0,
        }
    )
    assert features_of("") == dict.fromkeys(TEXT_FEATURES, 0.0)


def reference(text: str) -> dict[str, float]:
    """The definition, one character at a time."""
    n = len(text)

    def share(count: int) -> float:
        return count / n if n else 0.0

    return {
        "length": n,
        "word_count": len(text.split()),
        "upper_ratio": share(sum(c.isupper() for c in text)),
        "digit_ratio": share(sum(c.isdigit() for c in text)),
        "punct_ratio": share(sum(unicodedata.category(c)[0] in "PS" for c in text)),
        "whitespace_ratio": share(sum(c.isspace() for c in text)),
        "non_ascii_ratio": share(sum(ord(c) > 127 for c in text)),
    }


def random_texts(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    alphabet = [*"abcXYZ019 \t\n.,!?#{}", "é", "Ö", "ß", "✓", "🙂", "٣", "\u00a0", "\u2003"]
    return ["".join(rng.choice(alphabet, rng.integers(0, 30))) for _ in range(count)]


def test_text_features_match_the_per_character_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [*random_texts(200, seed=1), "", " ", "x"]
    computed = text_features(texts)
    assert all(values.dtype == np.float64 and values.shape == (len(texts),) for values in computed.values())
    for index, text in enumerate(texts):
        assert {name: float(computed[name][index]) for name in TEXT_FEATURES} == pytest.approx(reference(text))
    monkeypatch.setattr(profile, "_BATCH_CHARS", 50)  # many small batches give the same answer
    batched = text_features(texts)
    for name in TEXT_FEATURES:
        assert np.array_equal(batched[name], computed[name])


def test_numeric_profile_skips_nan_and_counts_it_missing() -> None:
    values = np.array([1.0, 2.0, np.nan, 3.0, np.inf, 4.0])
    result = numeric_profile(values, bins=3)
    assert result["type"] == "numeric"
    assert (result["count"], result["missing"]) == (4, 2)
    assert result["mean"] == pytest.approx(2.5)
    assert result["std"] == pytest.approx(np.std([1, 2, 3, 4]))
    assert (result["min"], result["max"]) == (1.0, 4.0)
    assert set(result["quantiles"]) == {"p01", "p05", "p25", "p50", "p75", "p95", "p99"}
    assert result["quantiles"]["p50"] == pytest.approx(2.5)
    assert len(result["histogram"]["edges"]) == 4
    assert sum(result["histogram"]["counts"]) == 4
    assert sorted(result["sample"]) == [1.0, 2.0, 3.0, 4.0]
    json.dumps(result, allow_nan=False)


def test_numeric_profile_sample_is_seeded_and_bounded() -> None:
    values = np.arange(5000, dtype=float)
    first = numeric_profile(values, sample_size=100, seed=1)["sample"]
    assert len(first) == 100
    assert first == numeric_profile(values, sample_size=100, seed=1)["sample"]
    assert first != numeric_profile(values, sample_size=100, seed=2)["sample"]


def test_numeric_profile_of_nothing_is_still_json() -> None:
    result = numeric_profile(np.array([np.nan, np.nan]))
    assert (result["count"], result["missing"], result["mean"], result["sample"]) == (0, 2, None, [])
    json.dumps(result, allow_nan=False)


def test_categorical_profile_keeps_the_top_categories() -> None:
    values = ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"] + [None, float("nan")]
    result = categorical_profile(values, max_categories=2)
    assert result == {"type": "categorical", "count": 11, "missing": 2, "counts": {"a": 5, "b": 3, "__other__": 3}}
    assert categorical_profile([1, 1, True])["counts"] == {"1": 2, "True": 1}


def test_text_profile_is_json_with_scores_and_labels() -> None:
    texts = random_texts(50, seed=2)
    result = build_text_profile(texts, scores=np.linspace(0, 1, 50), labels=[i % 2 for i in range(50)])
    assert (result["kind"], result["version"], result["rows"]) == ("text", 1, 50)
    assert set(result["features"]) == {*TEXT_FEATURES, "score"}
    assert result["labels"]["counts"] == {"0": 25, "1": 25}
    json.dumps(result, allow_nan=False)
    assert "labels" not in build_text_profile(texts)


def test_text_profile_takes_extra_numeric_features_per_text() -> None:
    texts = random_texts(50, seed=4)
    projected = {"proj_0": np.linspace(-1, 1, 50), "proj_1": np.zeros(50)}
    result = build_text_profile(texts, scores=np.linspace(0, 1, 50), extra=projected, seed=3)
    assert set(result["features"]) == {*TEXT_FEATURES, "score", "proj_0", "proj_1"}
    assert result["features"]["proj_0"] == numeric_profile(projected["proj_0"], seed=3)
    assert result["features"]["proj_1"]["std"] == 0.0
    json.dumps(result, allow_nan=False)
    with pytest.raises(ValueError, match="collides"):
        build_text_profile(texts, scores=np.zeros(50), extra={"score": np.zeros(50)})
    with pytest.raises(ValueError, match="49 values for 50 texts"):
        build_text_profile(texts, extra={"proj_0": np.zeros(49)})


def test_tabular_profile_is_json_and_keeps_the_label_apart() -> None:
    frame = pd.DataFrame(
        {
            "age": [31.0, np.nan, 45.0, 52.0],
            "city": ["Paris", None, "Lyon", "Paris"],
            "flag": [True, False, True, True],
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
            "label": [0, 1, 0, 1],
        }
    )
    result = build_tabular_profile(frame, label_column="label")
    assert (result["kind"], result["rows"]) == ("tabular", 4)
    assert set(result["features"]) == {"age", "city", "flag", "count"}
    assert result["features"]["age"]["type"] == "numeric"
    assert result["features"]["age"]["missing"] == 1
    assert result["features"]["count"]["missing"] == 1
    assert result["features"]["city"]["counts"] == {"Paris": 2, "Lyon": 1}
    assert result["features"]["flag"]["type"] == "categorical"
    assert result["labels"]["type"] == "categorical"
    json.dumps(result, allow_nan=False)
    regression = build_tabular_profile(frame.assign(label=[0.5, 1.5, 2.5, 3.5]), label_column="label")
    assert regression["labels"]["type"] == "numeric"

"""Training runs end to end: synthetic data, the shipped prompt-injection data, tabular tasks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.datasets import make_classification, make_regression

from mlsec.ml.datasets import load_dataset
from mlsec.ml.text_model import SKOPS_TRUSTED_TYPES, TextModelParams
from mlsec.ml.training import TabularParams, TrainingResult, train_tabular, train_text_classifier
from tests.unit.ml.synthetic import prompt_frame

DATA = Path(__file__).resolve().parents[3] / "data"
PNG = b"\x89PNG"


def assert_json(result: TrainingResult) -> None:
    json.dumps(result.profile, allow_nan=False)
    json.dumps(result.classification_report)
    json.dumps(result.confusion_matrix)
    json.dumps(result.metrics, allow_nan=False)


def test_text_classifier_learns_synthetic_injections_and_reports_progress() -> None:
    steps: list[tuple[int, str]] = []
    result = train_text_classifier(
        prompt_frame(200), params=TextModelParams(), progress=lambda p, s: steps.append((p, s))
    )
    percents = [percent for percent, _ in steps]
    assert percents == sorted(set(percents))
    assert percents[-1] == 100
    names = dict(steps)
    assert (names[5], names[15], names[30], names[70], names[85], names[100]) == (
        "loading",
        "splitting",
        "fitting",
        "evaluating",
        "profiling",
        "done",
    )
    assert result.task == "text_classification"
    assert result.metrics["f1"] > 0.9
    assert (result.metrics["train_rows"], result.metrics["test_rows"]) == (160, 40)
    assert result.metrics["training_seconds"] > 0
    assert result.threshold is not None
    assert 0 < result.threshold < 1
    assert result.metrics["threshold"] == result.threshold
    assert result.classes == ["0", "1"]
    assert result.confusion_matrix is not None
    assert sum(map(sum, result.confusion_matrix)) == 40
    assert result.classification_report is not None
    assert {"0", "1", "macro avg"} <= set(result.classification_report)
    assert set(result.plots) == {"confusion_matrix.png", "roc_curve.png", "pr_curve.png"}
    assert all(png.startswith(PNG) for png in result.plots.values())
    assert result.profile["kind"] == "text"
    assert result.profile["rows"] == 160
    assert "score" in result.profile["features"]
    assert result.projection is not None
    projected = ["proj_0", "proj_1", "proj_2", "proj_3"]
    assert result.projection.names == projected and set(projected) <= set(result.profile["features"])
    texts = result.model.named_steps["select"].transform(prompt_frame(200))
    matrix = result.model.named_steps["features"].transform(texts)
    assert result.projection.n_features == matrix.shape[1]
    assert all(result.profile["features"][name]["count"] == 160 for name in projected)
    assert result.profile["features"]["proj_0"]["std"] > 0
    assert list(result.input_example.columns) == ["text"]
    assert 1 <= len(result.input_example) <= 5
    assert result.model.predict_proba(result.input_example).shape == (len(result.input_example), 2)
    assert_json(result)


def test_text_classifier_uses_the_given_test_frame() -> None:
    result = train_text_classifier(prompt_frame(120, seed=1), params=TextModelParams(), test=prompt_frame(30, seed=2))
    assert (result.metrics["train_rows"], result.metrics["test_rows"]) == (120, 30)
    with pytest.raises(ValueError, match="lack"):
        train_text_classifier(
            prompt_frame(60), params=TextModelParams(), test=pd.DataFrame({"text": ["x"], "label": [7]})
        )


def test_text_classifier_handles_more_than_two_classes() -> None:
    frame = prompt_frame(150, seed=3)
    frame["label"] = np.where(frame["label"] == 1, "injection", np.where(frame.index % 2 == 0, "benign", "other"))
    frame.loc[frame["label"] == "other", "text"] = "Translate this sentence into French: " + frame["text"]
    result = train_text_classifier(frame, params=TextModelParams())
    assert result.threshold is None
    assert result.classes == ["benign", "injection", "other"]
    assert {"accuracy", "f1_macro", "precision_macro", "recall_macro"} <= set(result.metrics)
    assert set(result.plots) == {"confusion_matrix.png"}
    assert set(result.input_example.index) == set(range(len(result.input_example)))
    assert_json(result)


def test_text_classifier_refuses_a_single_class() -> None:
    frame = prompt_frame(40)
    with pytest.raises(ValueError, match="two classes"):
        train_text_classifier(frame.assign(label=1), params=TextModelParams())


def shipped(*names: str) -> pd.DataFrame:
    return pd.concat([load_dataset(DATA / name, fmt="jsonl") for name in names], ignore_index=True)


def test_shipped_prompt_injection_data_is_learned() -> None:
    train = shipped("prompts_deepset_train.jsonl", "prompts_jackhhao_train.jsonl")
    test = shipped("prompts_deepset_test.jsonl", "prompts_jackhhao_test.jsonl")
    result = train_text_classifier(train, params=TextModelParams(), test=test)
    metrics = result.metrics
    summary = ", ".join(f"{key}={value:.4f}" for key, value in metrics.items())
    print(f"shipped data held-out metrics: {summary}")
    assert metrics["f1"] >= 0.85, summary
    assert metrics["roc_auc"] >= 0.9, summary
    assert (metrics["train_rows"], metrics["test_rows"]) == (1590, 378)
    data = skops.io.dumps(result.model)
    assert set(skops.io.get_untrusted_types(data=data)) <= set(SKOPS_TRUSTED_TYPES)
    assert len(data) < 30_000_000  # the compact vocabulary keeps the saved model small


# --- tabular ------------------------------------------------------------------------------------------


def tabular_frame(label: np.ndarray[Any, Any], features: np.ndarray[Any, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(features, columns=[f"x{i}" for i in range(features.shape[1])])
    frame["colour"] = np.where(features[:, 0] > 0, "red", "blue")
    frame.loc[::17, "colour"] = None
    frame.loc[::13, "x1"] = np.nan
    frame["label"] = label
    return frame


@pytest.mark.parametrize("model", ["gradient_boosting", "random_forest", "linear"])
def test_tabular_classification_beats_the_majority_class(model: str) -> None:
    features, label = make_classification(
        n_samples=400, n_features=6, n_informative=4, weights=[0.6], class_sep=1.5, random_state=0
    )
    frame = tabular_frame(label, features)
    steps: list[int] = []
    params = TabularParams.from_dict({"model": model, "n_estimators": 50})
    result = train_tabular(frame, task="tabular_classification", params=params, progress=lambda p, _: steps.append(p))
    assert steps == sorted(set(steps))
    assert steps[-1] == 100
    majority = max(np.mean(label), 1 - np.mean(label))
    assert result.metrics["accuracy"] > majority + 0.1
    assert result.threshold is not None
    assert 0 < result.threshold < 1
    assert result.classes == ["0", "1"]
    assert "roc_curve.png" in result.plots
    assert list(result.input_example.columns) == [*(f"x{i}" for i in range(6)), "colour"]
    assert result.profile["kind"] == "tabular"
    assert "label" not in result.profile["features"]
    assert result.projection is None
    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(result.model))
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)
    assert_json(result)


@pytest.mark.parametrize("model", ["gradient_boosting", "random_forest", "linear"])
def test_tabular_regression_beats_predicting_the_mean(model: str) -> None:
    features, target = make_regression(n_samples=400, n_features=5, noise=5.0, random_state=1)
    frame = tabular_frame(target, features)
    params = TabularParams.from_dict({"model": model, "n_estimators": 50})
    result = train_tabular(frame, task="tabular_regression", params=params)
    assert result.metrics["r2"] > 0.5
    assert result.metrics["rmse"] < np.std(target)
    assert result.threshold is None
    assert result.classes == []
    assert result.classification_report is None
    assert result.confusion_matrix is None
    assert set(result.plots) == {"residuals.png"}
    assert result.plots["residuals.png"].startswith(PNG)
    assert result.profile["labels"]["type"] == "numeric"
    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(result.model))
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)
    assert_json(result)


def test_tabular_multiclass_with_string_labels() -> None:
    features, label = make_classification(
        n_samples=300, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=2
    )
    frame = tabular_frame(np.array(["low", "mid", "high"])[label], features)
    result = train_tabular(frame, task="tabular_classification", params=TabularParams(n_estimators=50))
    assert result.threshold is None
    assert result.classes == ["high", "low", "mid"]
    assert result.metrics["accuracy"] > 0.5
    assert "roc_auc_ovr" in result.metrics


def test_tabular_params_are_parsed_strictly() -> None:
    assert TabularParams.from_dict(TabularParams(max_depth=3).to_dict()) == TabularParams(max_depth=3)
    assert TabularParams.from_dict({"max_depth": None}).max_depth is None
    with pytest.raises(ValueError, match="depth"):
        TabularParams.from_dict({"depth": 3})
    with pytest.raises(ValueError, match="model"):
        TabularParams.from_dict({"model": "xgboost"})
    with pytest.raises(ValueError, match="n_estimators"):
        TabularParams.from_dict({"n_estimators": "100"})
    with pytest.raises(ValueError, match="learning_rate"):
        TabularParams(learning_rate=0)

"""The default model's quality and cost, beside the classifier a user would write by hand.

Both are trained on the shipped `*_train.jsonl` files and scored on the held-out `*_test.jsonl`
files (never trained on). The hand-written anchor is scikit-learn's textbook text classifier,
`TfidfVectorizer()` + `LogisticRegression()` with defaults, deciding at 0.5.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io
from rich.table import Table
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from mlsec.ml.datasets import load_dataset
from mlsec.ml.evaluation import binary_metrics
from mlsec.ml.text_model import TextModelParams
from mlsec.ml.threshold import with_threshold
from mlsec.ml.training import train_text_classifier

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
METRICS = ("precision", "recall", "f1", "roc_auc")


@dataclass(frozen=True)
class ModelFigures:
    """Held-out quality and costs of one classifier."""

    name: str
    metrics: dict[str, float]
    threshold: float
    training_seconds: float
    size_bytes: int
    predict_ms_per_1000: float


def _frame(pattern: str) -> pd.DataFrame:
    files = sorted(DATA_DIR.glob(pattern))
    return pd.concat([load_dataset(path, fmt="jsonl") for path in files], ignore_index=True)


def _size(model: Any) -> int:
    return len(skops.io.dumps(model))


def _predict_ms(model: Any, texts: pd.DataFrame) -> float:
    batch = pd.concat([texts] * (1000 // len(texts) + 1), ignore_index=True).iloc[:1000]
    started = time.perf_counter()
    model.predict_proba(batch)
    return (time.perf_counter() - started) * 1000


def default_model(train: pd.DataFrame, test: pd.DataFrame) -> ModelFigures:
    """The platform's security-classifier, exactly as a training job builds it."""
    result = train_text_classifier(train, params=TextModelParams(), test=test)
    assert result.threshold is not None
    served = with_threshold(result.model, result.threshold, result.input_example)
    return ModelFigures(
        "mlsec security-classifier",
        {k: result.metrics[k] for k in METRICS},
        result.threshold,
        result.metrics["training_seconds"],
        _size(served),
        _predict_ms(served, test[["text"]]),
    )


def hand_written(train: pd.DataFrame, test: pd.DataFrame) -> ModelFigures:
    """TfidfVectorizer + LogisticRegression with defaults: what a user writes first."""
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    started = time.perf_counter()
    model.fit(train["text"], train["label"])
    seconds = time.perf_counter() - started
    scores = model.predict_proba(test["text"])[:, 1]
    metrics = binary_metrics(np.asarray(test["label"]), scores, 0.5)
    buffer = io.BytesIO(skops.io.dumps(model))
    started = time.perf_counter()
    model.predict_proba(pd.concat([test["text"]] * (1000 // len(test) + 1)).iloc[:1000])
    predict_ms = (time.perf_counter() - started) * 1000
    return ModelFigures(
        "TF-IDF + LogisticRegression (defaults)",
        {k: metrics[k] for k in METRICS},
        0.5,
        seconds,
        len(buffer.getvalue()),
        predict_ms,
    )


def run() -> tuple[list[ModelFigures], dict[str, int]]:
    """Both classifiers on the same data; the row counts used."""
    train, test = _frame("prompts_*_train.jsonl"), _frame("prompts_*_test.jsonl")
    return [default_model(train, test), hand_written(train, test)], {"train_rows": len(train), "test_rows": len(test)}


def rich_table(figures: list[ModelFigures]) -> Table:
    table = Table(title="Default model on the held-out test files (same data, same machine, one run)")
    for column in ("classifier", *METRICS, "threshold", "train s", "size MB", "ms / 1000 texts"):
        table.add_column(column, justify="left" if column == "classifier" else "right")
    for f in figures:
        table.add_row(
            f.name,
            *(f"{f.metrics[m]:.4f}" for m in METRICS),
            f"{f.threshold:.3f}",
            f"{f.training_seconds:.2f}",
            f"{f.size_bytes / 1e6:.2f}",
            f"{f.predict_ms_per_1000:.0f}",
        )
    return table


def markdown(record: dict[str, Any], figures: list[ModelFigures]) -> str:
    m = record["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in record["versions"].items())
    rows = "\n".join(
        f"| {f.name} | "
        + " | ".join(f"{f.metrics[k]:.4f}" for k in METRICS)
        + f" | {f.threshold:.3f} | {f.training_seconds:.2f} | {f.size_bytes / 1e6:.2f} | {f.predict_ms_per_1000:.0f} |"
        for f in figures
    )
    ours, anchor = figures
    return f"""# Default model benchmark, {record["started_at"]}

- Machine: {m["cpu_model"]}, {m["cpu_count"]} cores, {m["memory_gib"]} GiB, {m["os"]}; Python {m["python"]}; {versions}
- Data: trained on {record["rows"]["train_rows"]} rows (`data/prompts_*_train.jsonl`), scored on \
{record["rows"]["test_rows"]} held-out rows (`data/prompts_*_test.jsonl`, never trained on).
- Size: the model serialised with skops, as MLflow stores it. Prediction: `predict_proba` on 1,000 texts in one call.

| classifier | precision | recall | F1 | ROC-AUC | threshold | training s | size MB | ms / 1000 texts |
|---|---|---|---|---|---|---|---|---|
{rows}

F1 ratio (mlsec / anchor): {ours.metrics["f1"] / anchor.metrics["f1"]:.3f}; ROC-AUC ratio: \
{ours.metrics["roc_auc"] / anchor.metrics["roc_auc"]:.3f}; training-time ratio: \
{ours.training_seconds / anchor.training_seconds:.1f}.
"""

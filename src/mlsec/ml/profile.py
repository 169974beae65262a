"""Reference profiles of training data, the baseline that drift monitoring compares live traffic against.

A profile is plain JSON (no NaN, no numpy types), small whatever the data size: per feature it keeps
summary statistics, quantiles, a histogram and a seeded random sample (for two-sample tests such as
Kolmogorov-Smirnov). Text is profiled through cheap surface features (length, casing, digits,
punctuation, non-ASCII share) that shift when the kind of prompts sent to a model changes, plus the
model's own scores.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlsec.ml.text_model import as_text

TEXT_FEATURES: tuple[str, ...] = (
    "length",
    "word_count",
    "upper_ratio",
    "digit_ratio",
    "punct_ratio",
    "whitespace_ratio",
    "non_ascii_ratio",
)
PROFILE_VERSION = 1
OTHER = "__other__"

# Character classes, one bit each, looked up per code point.
_UPPER, _DIGIT, _PUNCT, _SPACE, _NON_ASCII = 1, 2, 4, 8, 16
_BATCH_CHARS = 1 << 24  # bound the per-character arrays (about 13 bytes a character) while profiling
_QUANTILES = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}


def _classify(code_point: int) -> int:
    char = chr(code_point)
    bits = 0
    if char.isupper():
        bits |= _UPPER
    if char.isdigit():
        bits |= _DIGIT
    if unicodedata.category(char)[0] in "PS":  # punctuation and symbols: ASCII's string.punctuation and more
        bits |= _PUNCT
    if char.isspace():
        bits |= _SPACE
    if code_point > 127:
        bits |= _NON_ASCII
    return bits


def text_features(texts: Sequence[str]) -> dict[str, np.ndarray[Any, np.dtype[np.float64]]]:
    """Surface features of each text, as float64 arrays of len(texts), keyed as TEXT_FEATURES.

    length counts characters (code points); word_count is len(text.split()); the ratios are shares of
    characters that are upper case, digits, punctuation or symbols, whitespace and non-ASCII, over the
    length (0 for an empty text). Unicode-aware (str.isupper, str.isdigit, str.isspace, categories P*
    and S*), and vectorised: the texts are laid out as one array of code points, each distinct code point
    is classified once, and per-text counts are sums over that array.
    """
    strings = [as_text(text) for text in texts]
    counts = {name: np.zeros(len(strings), dtype=np.float64) for name in TEXT_FEATURES}
    start = 0
    while start < len(strings):
        stop, chars = start, 0
        while stop < len(strings) and (stop == start or chars + len(strings[stop]) <= _BATCH_CHARS):
            chars += len(strings[stop])
            stop += 1
        _count_batch(strings[start:stop], {name: array[start:stop] for name, array in counts.items()})
        start = stop
    length = counts["length"]
    safe = np.where(length > 0, length, 1.0)
    for name in ("upper_ratio", "digit_ratio", "punct_ratio", "whitespace_ratio", "non_ascii_ratio"):
        counts[name] = np.where(length > 0, counts[name] / safe, 0.0)
    return counts


def _count_batch(strings: list[str], out: dict[str, np.ndarray[Any, np.dtype[np.float64]]]) -> None:
    """Fill `out` (views into the result) with lengths and raw character counts for `strings`."""
    lengths = np.fromiter((len(text) for text in strings), dtype=np.int64, count=len(strings))
    out["length"][:] = lengths
    if lengths.sum() == 0:
        return
    code_points = np.frombuffer("".join(strings).encode("utf-32-le", errors="surrogatepass"), dtype="<u4")
    present = np.flatnonzero(np.bincount(code_points))
    table = np.zeros(int(present[-1]) + 1, dtype=np.uint8)
    table[present] = [_classify(int(code_point)) for code_point in present]
    classes = table[code_points]
    owner = np.repeat(np.arange(len(strings)), lengths)
    for name, bit in (
        ("upper_ratio", _UPPER),
        ("digit_ratio", _DIGIT),
        ("punct_ratio", _PUNCT),
        ("whitespace_ratio", _SPACE),
        ("non_ascii_ratio", _NON_ASCII),
    ):
        out[name][:] = np.bincount(owner, weights=(classes & bit) != 0, minlength=len(strings))
    # A word starts at a non-space character that opens its text or follows a space: exactly str.split().
    space = (classes & _SPACE) != 0
    follows_space = np.concatenate(([True], space[:-1]))
    text_starts = np.cumsum(lengths) - lengths
    follows_space[text_starts[lengths > 0]] = True
    out["word_count"][:] = np.bincount(owner, weights=~space & follows_space, minlength=len(strings))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return False


def numeric_profile(
    values: np.ndarray[Any, Any] | Sequence[float], *, bins: int = 10, sample_size: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Summary of a numeric column; NaN and infinite values are skipped and counted as "missing".

    With no finite values the statistics are null and the histogram and sample empty.
    """
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):  # None, pd.NA or strings among the values: those count as missing
        loose = pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="coerce")
        array = loose.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = array[np.isfinite(array)]
    profile: dict[str, Any] = {"type": "numeric", "count": int(finite.size), "missing": int(array.size - finite.size)}
    if finite.size == 0:
        profile.update(
            mean=None,
            std=None,
            min=None,
            max=None,
            quantiles=dict.fromkeys(_QUANTILES),
            histogram={"edges": [], "counts": []},
            sample=[],
        )
        return profile
    quantiles = np.quantile(finite, list(_QUANTILES.values()))
    counts, edges = np.histogram(finite, bins=bins)
    if finite.size > sample_size:
        chosen = np.sort(np.random.default_rng(seed).choice(finite.size, size=sample_size, replace=False))
        sample = finite[chosen]
    else:
        sample = finite
    profile.update(
        mean=float(finite.mean()),
        std=float(finite.std()),
        min=float(finite.min()),
        max=float(finite.max()),
        quantiles={name: float(value) for name, value in zip(_QUANTILES, quantiles, strict=True)},
        histogram={"edges": [float(edge) for edge in edges], "counts": [int(count) for count in counts]},
        sample=[float(value) for value in sample],
    )
    return profile


def categorical_profile(values: Sequence[Any], *, max_categories: int = 50) -> dict[str, Any]:
    """Counts per value (as str), the `max_categories` most frequent kept and the rest summed under
    "__other__"; missing values (None, NaN) are counted as "missing", not as a category."""
    items = list(values)
    missing = sum(1 for value in items if _is_missing(value))
    present = pd.Series([str(value) for value in items if not _is_missing(value)], dtype=object)
    tally = present.value_counts()
    ranked = sorted(((str(key), int(count)) for key, count in tally.items()), key=lambda pair: (-pair[1], pair[0]))
    counts = dict(ranked[:max_categories])
    rest = sum(count for _, count in ranked[max_categories:])
    if rest:
        counts[OTHER] = counts.get(OTHER, 0) + rest
    return {"type": "categorical", "count": len(items) - missing, "missing": missing, "counts": counts}


def build_text_profile(
    texts: Sequence[str],
    *,
    scores: np.ndarray[Any, Any] | None = None,
    labels: Sequence[Any] | None = None,
    extra: Mapping[str, np.ndarray[Any, Any]] | None = None,
    bins: int = 10,
    sample_size: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Profile of a text dataset: every TEXT_FEATURES feature, the model's scores and the labels when given.

    `extra` adds numeric features with one value per text, profiled the same way: the projection of the
    model's own features (`proj_0`, ... from mlsec.ml.projection), which serving logs per prediction too.
    """
    features = {
        name: numeric_profile(values, bins=bins, sample_size=sample_size, seed=seed)
        for name, values in text_features(texts).items()
    }
    if scores is not None:
        features["score"] = numeric_profile(np.asarray(scores), bins=bins, sample_size=sample_size, seed=seed)
    for name, values in (extra or {}).items():
        if name in features:
            raise ValueError(f"extra feature {name!r} collides with a built-in one")
        if len(values) != len(texts):
            raise ValueError(f"extra feature {name!r} has {len(values)} values for {len(texts)} texts")
        features[name] = numeric_profile(values, bins=bins, sample_size=sample_size, seed=seed)
    profile: dict[str, Any] = {"kind": "text", "version": PROFILE_VERSION, "rows": len(texts), "features": features}
    if labels is not None:
        profile["labels"] = categorical_profile(labels)
    return profile


def build_tabular_profile(
    frame: pd.DataFrame,
    *,
    label_column: str | None = None,
    bins: int = 10,
    sample_size: int = 1000,
    seed: int = 0,
    label_type: Literal["categorical", "numeric"] | None = None,
) -> dict[str, Any]:
    """Profile of a table: numeric columns (bool excluded) get numeric profiles, others categorical.

    The label column, when named, is profiled under "labels" instead of "features"; `label_type` says how
    (None: numeric for float columns, categorical otherwise, since integer labels are usually classes).
    """

    def numeric(column: pd.Series) -> bool:
        return bool(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))

    features: dict[str, Any] = {}
    for name in frame.columns:
        if label_column is not None and name == label_column:
            continue
        column = frame[name]
        if numeric(column):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            features[str(name)] = numeric_profile(values, bins=bins, sample_size=sample_size, seed=seed)
        else:
            features[str(name)] = categorical_profile(column.tolist())
    profile: dict[str, Any] = {"kind": "tabular", "version": PROFILE_VERSION, "rows": len(frame), "features": features}
    if label_column is not None:
        label = frame[label_column]
        kind = label_type or ("numeric" if pd.api.types.is_float_dtype(label) else "categorical")
        if kind == "numeric":
            values = pd.to_numeric(label, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            profile["labels"] = numeric_profile(values, bins=bins, sample_size=sample_size, seed=seed)
        else:
            profile["labels"] = categorical_profile(label.tolist())
    return profile

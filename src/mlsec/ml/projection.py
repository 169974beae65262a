"""A low-dimensional projection of a text model's own features, for drift monitoring.

Why: the surface features of a text (length, character classes) miss a change of *what* is asked in the
same shape of text, which is what moves a classifier. The model's features (TF-IDF, 100,000+ sparse
columns) see it but are far too wide to compare window against reference. A truncated SVD fitted at
training on those features keeps the few directions along which the training texts vary most; each text
becomes `proj_0 ... proj_{k-1}`, plain numbers that the reference profile and the live prediction log carry
like any other feature, and that move when live traffic leaves the space the model was trained on.

The projection is stored apart from the model (`reference/projection.npz` in the training run), as plain
arrays written with NumPy and read back with `allow_pickle=False`: loading it can never run code.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported where used: analytics reads feature names here without loading scikit-learn
    from mlsec.ml.compiled_text import CompiledLinearFeatures

PROJECTION_VERSION = 1
PROJECTION_ARTIFACT = "reference/projection.npz"  # in the training run, beside reference/profile.json
PROJECTION_PREFIX = "proj_"
DEFAULT_COMPONENTS = 4  # a few directions: each is one more drift feature, corrected for like the others
MAX_FIT_ROWS = 10_000  # rows the SVD is fitted on, a seeded sample beyond: training stays fast on big data
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def is_projection_feature(name: str) -> bool:
    """Whether a feature name is one of a projection's (`proj_<i>`)."""
    return name.startswith(PROJECTION_PREFIX) and name[len(PROJECTION_PREFIX) :].isdigit()


@dataclass(frozen=True, eq=False)
class Projection:
    """k directions in a model's feature space: `transform(X) = X @ components.T`, as TruncatedSVD's."""

    components: FloatArray  # (k, n_features)

    @property
    def n_features(self) -> int:
        return int(self.components.shape[1])

    @property
    def names(self) -> list[str]:
        return [f"{PROJECTION_PREFIX}{i}" for i in range(self.components.shape[0])]

    def transform(self, matrix: Any) -> FloatArray:
        """(n, k) coordinates of the rows of `matrix` (dense or scipy sparse, n_features wide)."""
        if matrix.shape[1] != self.n_features:
            raise ValueError(f"the projection takes {self.n_features} features, got {matrix.shape[1]}")
        return np.asarray(matrix @ self.components.T, dtype=np.float64)

    def columns(self, projected: FloatArray) -> dict[str, FloatArray]:
        """The (n, k) output of `transform` as one named column per direction."""
        return {name: projected[:, i] for i, name in enumerate(self.names)}

    def to_bytes(self) -> bytes:
        """The .npz file: format version and components, nothing that needs pickle to read."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            version=np.asarray(PROJECTION_VERSION, dtype=np.int64),
            n_features=np.asarray(self.n_features, dtype=np.int64),
            components=self.components,
        )
        return buffer.getvalue()

    def save(self, path: Path) -> None:
        path.write_bytes(self.to_bytes())


def load_projection(source: Path | bytes) -> Projection:
    """Read a projection written by `Projection.save`/`to_bytes`; ValueError when it is not one we can use."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        missing = {"version", "n_features", "components"} - set(stored.files)
        if missing:
            raise ValueError(f"not a projection file: it lacks {sorted(missing)}")
        version = int(stored["version"])
        if version != PROJECTION_VERSION:
            raise ValueError(f"projection format version {version}; this code reads version {PROJECTION_VERSION}")
        components = np.asarray(stored["components"], dtype=np.float64)
        n_features = int(stored["n_features"])
    if components.ndim != 2 or components.shape[1] != n_features or components.shape[0] < 1:
        raise ValueError(f"projection components of shape {components.shape} for {n_features} features")
    if not np.all(np.isfinite(components)):
        raise ValueError("projection components are not all finite")
    return Projection(components)


def fit_projection(
    matrix: Any, *, components: int = DEFAULT_COMPONENTS, max_rows: int = MAX_FIT_ROWS, seed: int = 0
) -> Projection | None:
    """A seeded TruncatedSVD of `matrix` (the model's features of the training texts), fitted on at most
    `max_rows` rows chosen at random with `seed`; None when the matrix is too small to project (k is cut to
    fewer than its rows and columns)."""
    from sklearn.decomposition import TruncatedSVD  # here: serving, which only applies projections, skips it

    rows, width = matrix.shape
    k = min(components, rows - 1, width - 1)
    if k < 1:
        return None
    if rows > max_rows:
        chosen = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
        matrix = matrix[chosen]
    svd = TruncatedSVD(n_components=k, algorithm="randomized", random_state=seed).fit(matrix)
    return Projection(np.ascontiguousarray(svd.components_, dtype=np.float64))


def features_step(model: Any) -> Any:
    """The `features` step of a fitted text pipeline, also through the threshold wrapper training adds
    (FixedThresholdClassifier(FrozenEstimator(pipeline))); None for a model without one."""
    for _ in range(3):  # pipeline, or one or two wrappers around it
        steps = getattr(model, "named_steps", None)
        if steps is not None:
            return steps.get("features")
        model = getattr(model, "estimator", None)
        if model is None:
            return None
    return None


class TextProjector:
    """Texts to projection features through a served model's own features step.

    Built once per loaded model; `project` runs in the prediction-log writer, never on the request path.
    The model's `select` step is not needed: the writer already holds the texts. When the features step is
    one that mlsec.ml.compiled_text reproduces, the projection runs compiled (about a compiled prediction's
    cost, about a fifth of scikit-learn's `transform`, checked equal at build); else through `transform`.
    """

    def __init__(self, features: Any, projection: Projection, compiled: CompiledLinearFeatures | None = None):
        self.features = features
        self.projection = projection
        self.compiled = compiled

    @classmethod
    def for_model(cls, model: Any, projection: Projection, *, compile_features: bool = True) -> TextProjector:
        """The projector of a fitted text model; ValueError when the model has no features step of the
        projection's width (a projection from another run, or a model of another shape)."""
        features = features_step(model)
        if features is None or not hasattr(features, "transform"):
            raise ValueError(f"{type(model).__name__} has no 'features' step to project")
        width = _width(features)
        if width != projection.n_features:
            raise ValueError(f"the model has {width} features, the projection {projection.n_features}")
        from mlsec.ml.compiled_text import NotCompilableError, compile_linear_features

        compiled: CompiledLinearFeatures | None = None
        if compile_features:
            try:
                compiled = compile_linear_features(features, projection.components.T)
            except NotCompilableError:
                compiled = None
        return cls(features, projection, compiled)

    @property
    def names(self) -> list[str]:
        return self.projection.names

    def project(self, texts: Sequence[str]) -> dict[str, FloatArray]:
        """`proj_<i>` per text, as columns of len(texts)."""
        if self.compiled is not None:
            return self.projection.columns(self.compiled.transform(texts))
        if not texts:
            return {name: np.zeros(0, dtype=np.float64) for name in self.names}
        matrix = self.features.transform(np.asarray(list(texts), dtype=object))
        return self.projection.columns(self.projection.transform(matrix))


def _width(features: Any) -> int:
    """Output columns of a fitted features step: those of one empty text (cheap, and right for any step)."""
    return int(features.transform(np.asarray([""], dtype=object)).shape[1])

"""The unfitted scikit-learn pipeline for tabular features: imputation, encoding, then the chosen model.

Only standard scikit-learn classes, so skops loads the fitted model; features are normalised here to the
form JSON requests arrive in, so the model sees the same types at training and at serving.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlsec.ml.training.tabular_params import TabularParams


def _is_categorical(column: pd.Series) -> bool:
    return bool(
        pd.api.types.is_object_dtype(column)
        or pd.api.types.is_string_dtype(column)
        or isinstance(column.dtype, pd.CategoricalDtype)
    )


def _normalise_features(features: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as object with NaN for missing, the form JSON requests arrive in (and the only
    one SimpleImputer accepts: pandas' string dtype with pd.NA breaks it)."""
    result = features.copy()
    for name in result.columns:
        column = result[name]
        if _is_categorical(column) and not pd.api.types.is_object_dtype(column):
            values = column.astype(object)
            result[name] = values.where(column.notna(), np.nan)
    return result


def build_tabular_pipeline(
    features: pd.DataFrame, *, task: Literal["tabular_classification", "tabular_regression"], params: TabularParams
) -> Pipeline:
    """The unfitted pipeline for these feature columns: impute and one-hot encode, then the chosen model.

    Numeric columns: median imputation (and scaling for the linear models); bool columns: one-hot;
    object/string/category columns: most-frequent imputation and one-hot (unknown categories ignored);
    other dtypes (dates) are dropped. Only standard scikit-learn classes, so skops loads it.
    """
    boolean = [name for name in features.columns if pd.api.types.is_bool_dtype(features[name])]
    numeric = [
        name for name in features.columns if pd.api.types.is_numeric_dtype(features[name]) and name not in boolean
    ]
    categorical = [name for name in features.columns if name not in boolean and _is_categorical(features[name])]
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if params.model == "linear":
        numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), numeric))
    if boolean:
        transformers.append(("boolean", OneHotEncoder(handle_unknown="ignore"), boolean))
    if categorical:
        encode = Pipeline(
            [("impute", SimpleImputer(strategy="most_frequent")), ("encode", OneHotEncoder(handle_unknown="ignore"))]
        )
        transformers.append(("categorical", encode, categorical))
    if not transformers:
        raise ValueError("no usable feature columns: need numeric, bool, string or categorical columns")
    dense = params.model == "gradient_boosting"  # HistGradientBoosting does not take sparse input
    preprocess = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0 if dense else 0.3)
    return Pipeline([("preprocess", preprocess), ("model", _estimator(task, params))])


def _estimator(task: str, params: TabularParams) -> Any:
    classification = task == "tabular_classification"
    if params.model == "gradient_boosting":
        boosting = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        return boosting(
            max_iter=params.n_estimators,
            max_depth=params.max_depth,
            learning_rate=params.learning_rate,
            random_state=params.seed,
        )
    if params.model == "random_forest":
        forest = RandomForestClassifier if classification else RandomForestRegressor
        return forest(n_estimators=params.n_estimators, max_depth=params.max_depth, random_state=params.seed)
    if classification:
        return LogisticRegression(max_iter=2000, random_state=params.seed)
    return Ridge(random_state=params.seed)

"""The request schemas' closed vocabularies are the engine's and the service's own, so the OpenAPI document
never offers a type the engine does not know, nor hides one it does."""

from __future__ import annotations

from typing import get_args

from mlsec.core.limits import SUBJECT_HASH_PATTERN
from mlsec.ml.pii.engine import RECOGNIZERS
from mlsec.ml.pii.findings import DENY_LIST, ENTITY_TYPES
from mlsec.ml.pii.subjects import HASH_PATTERN, IDENTIFYING_TYPES
from mlsec.services.data_privacy.schemas.types import Category, EntityType, IdentifierType
from mlsec.services.data_privacy.settings import CATEGORIES


def test_entity_types_are_the_engines() -> None:
    assert set(get_args(EntityType)) == {*RECOGNIZERS, DENY_LIST} == set(ENTITY_TYPES)


def test_identifier_types_are_the_identifying_ones() -> None:
    assert set(get_args(IdentifierType)) == IDENTIFYING_TYPES


def test_categories_are_the_retention_categories() -> None:
    assert get_args(Category) == CATEGORIES


def test_the_subject_hash_pattern_is_the_engines() -> None:
    assert HASH_PATTERN.pattern == SUBJECT_HASH_PATTERN

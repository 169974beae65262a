"""The closed vocabularies of the service's requests, stated in the schemas (so the OpenAPI document lists the
allowed values): entity types, identifier types, data categories. A unit test keeps them equal to the engine's."""

from __future__ import annotations

from typing import Literal

EntityType = Literal[
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_SSN",
    "URL",
    "DATE_OF_BIRTH",
    "SECRET",
    "DENY_LIST",
    "PERSON",
    "LOCATION",
]
IdentifierType = Literal["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"]
Category = Literal["prediction_logs", "datasets", "classifications", "audit"]

"""PII detection: what personal data a text holds, where, how sure, and which rule found it (pure: no I/O).

`PiiEngine(...).scan(text)` returns non-overlapping `Finding`s. Each entity type has its recognizer module:
patterns checked by their checksums where they have one (credit cards: Luhn; IBANs: mod-97; US SSNs: the
issuing rules), phone numbers parsed by `phonenumbers`, secrets by the shapes their issuers give them, person
names and places from word lists of installed packages and the cues around them (asked for: `ALL_TYPES`). Context
words near a match raise or lower its score; allow and deny lists are per deployment. docs/data-privacy.md says,
per type, what is found and what is not. `Anonymizer` replaces what was found (redact, mask, replace, keyed
hash, reversible encryption, consistent pseudonyms); `classify` gives the text's sensitivity level with reasons.
"""

from mlsec.ml.pii.anonymize import AnonymizationError, Anonymized, Anonymizer, Pseudonyms
from mlsec.ml.pii.classification import Classification, classify
from mlsec.ml.pii.engine import ALL_TYPES, DEFAULT_TYPES, PiiEngine, scan
from mlsec.ml.pii.findings import ENTITY_TYPES, Finding

__all__ = [
    "ALL_TYPES",
    "DEFAULT_TYPES",
    "ENTITY_TYPES",
    "AnonymizationError",
    "Anonymized",
    "Anonymizer",
    "Classification",
    "Finding",
    "PiiEngine",
    "Pseudonyms",
    "classify",
    "scan",
]

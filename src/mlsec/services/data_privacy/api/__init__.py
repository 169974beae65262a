"""Every router of the data-privacy service, in registration order."""

from mlsec.services.data_privacy.api import anonymize, audit, classify, compliance, consent, retention, subjects, system

routers = [
    system.router,
    classify.router,
    anonymize.router,
    subjects.router,
    consent.router,
    retention.router,
    audit.router,
    compliance.router,
]

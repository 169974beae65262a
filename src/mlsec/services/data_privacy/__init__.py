"""The data privacy service (port 8008): PII, anonymization, consent, retention and audit."""

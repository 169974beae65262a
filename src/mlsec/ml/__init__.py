"""Pure ML and privacy logic; imports no web, database or service code."""

"""`python -m mlsec` runs the CLI (the supervisor starts services this way)."""

from mlsec.cli import app

app()

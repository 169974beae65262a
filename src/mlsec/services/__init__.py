"""The platform services; each is its own FastAPI app, process and database."""

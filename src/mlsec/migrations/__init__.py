"""Alembic migrations, one history per service database."""

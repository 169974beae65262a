"""Alembic environment shared by every service; the caller passes connection and metadata."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through mlsec (mlsec db upgrade), which passes a connection")

context.configure(
    connection=connection,
    target_metadata=context.config.attributes["target_metadata"],
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic's environment: migrations run on the connection vietcx/store/db.py hands over."""

from alembic import context

from vietcx.store.db import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters a table by copying it: Alembic's batch mode does that
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic's environment for the history database: run from formcheck.history.upgrade, which
passes its open connection (no alembic.ini; nothing here reads a URL of its own)."""
from alembic import context

from formcheck.history import Base

conn = context.config.attributes["connection"]
context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

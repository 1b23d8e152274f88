"""The first schema: athletes, sessions, their reps and faults.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "athlete",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )
    op.create_table(
        "session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("athlete_id", sa.Integer(), sa.ForeignKey("athlete.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("date_source", sa.String(20), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.Column("exercise", sa.String(40), nullable=False),
        sa.Column("load_kg", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("source_key", sa.String(64), nullable=True),
        sa.Column("folder", sa.String(64), nullable=False),
        sa.Column("result_dir", sa.Text(), nullable=True),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.UniqueConstraint("athlete_id", "source_key", "exercise", name="uq_session_clip"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_session_athlete_id", "session", ["athlete_id"])
    op.create_index("ix_session_exercise", "session", ["exercise"])
    op.create_index("ix_session_source_key", "session", ["source_key"])
    op.create_table(
        "rep",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("session.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("not_measured", sa.JSON(), nullable=False),
    )
    op.create_index("ix_rep_session_id", "rep", ["session_id"])
    op.create_table(
        "fault",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("session.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rep", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
    )
    op.create_index("ix_fault_session_id", "fault", ["session_id"])


def downgrade() -> None:
    for t in ("fault", "rep", "session", "athlete"):
        op.drop_table(t)

"""dji live video: a dock flight's live stream and the detection job that reads it

Revision ID: 5b7e0c3d91a4
Revises: 28ef89405ef5
Create Date: 2026-12-06 20:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "5b7e0c3d91a4"
down_revision: str | None = "28ef89405ef5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dji_flight_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_state", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("live_video_id", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("live_lens", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column("live_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("live_job_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("live_reason", sa.String(length=300), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_dji_flight_tasks_live_job_id_detection_jobs"),
            "detection_jobs",
            ["live_job_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("dji_flight_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dji_flight_tasks_live_job_id_detection_jobs"), type_="foreignkey"
        )
        batch_op.drop_column("live_reason")
        batch_op.drop_column("live_job_id")
        batch_op.drop_column("live_attempts")
        batch_op.drop_column("live_lens")
        batch_op.drop_column("live_video_id")
        batch_op.drop_column("live_state")

"""dji flight tasks: dock sorties as DJI wayline tasks

Revision ID: 4cf6ee1a8a95
Revises: c6d1b7e2a9f0
Create Date: 2026-12-06 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db


revision: str = "4cf6ee1a8a95"
down_revision: str | None = "c6d1b7e2a9f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dji_flight_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sortie_id", sa.Integer(), nullable=False),
        sa.Column("flight_id", sa.String(length=64), nullable=False),
        sa.Column("gateway_sn", sa.String(length=64), nullable=False),
        sa.Column("aircraft_sn", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("kmz_md5", sa.String(length=32), nullable=True),
        sa.Column("execute_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("prepared_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("executed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dji_status", sa.String(length=24), nullable=True),
        sa.Column("dji_result", sa.Integer(), nullable=True),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column("waypoint_index", sa.Integer(), nullable=True),
        sa.Column("last_progress_ms", sa.BigInteger(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("offline_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason_en", sa.String(length=500), nullable=True),
        sa.Column("reason_zh", sa.String(length=500), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sortie_id"],
            ["sorties.id"],
            name=op.f("fk_dji_flight_tasks_sortie_id_sorties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dji_flight_tasks")),
        sa.UniqueConstraint("flight_id", name=op.f("uq_dji_flight_tasks_flight_id")),
        sa.UniqueConstraint("sortie_id", name=op.f("uq_dji_flight_tasks_sortie_id")),
    )
    with op.batch_alter_table("dji_flight_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dji_flight_tasks_aircraft_sn"), ["aircraft_sn"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dji_flight_tasks_gateway_sn"), ["gateway_sn"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dji_flight_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dji_flight_tasks_gateway_sn"))
        batch_op.drop_index(batch_op.f("ix_dji_flight_tasks_aircraft_sn"))

    op.drop_table("dji_flight_tasks")

"""incidents, sightings, alerts (outbox, webhooks), escalation, referrals and follow-up

Hand-checked after autogenerate. ``incidents.waterway_id`` is a plain integer without a
foreign key until waterways (issue 3) are wired to incidents; the integrator adds it then.

Revision ID: 9cff4f3c9a34
Revises: 29b43d1f2a98
Create Date: 2026-11-29 00:46:21.284880
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db


revision: str = '9cff4f3c9a34'
down_revision: str | None = '29b43d1f2a98'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('escalation_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('rungs', sa.JSON(), nullable=False),
    sa.Column('ack_expiry_s', sa.Integer(), nullable=False),
    sa.Column('warning_grace_s', sa.Integer(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['jurisdictions.id'], name=op.f('fk_escalation_policies_district_id_jurisdictions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policies')),
    sa.UniqueConstraint('district_id', name=op.f('uq_escalation_policies_district_id'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('waterway_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('first_seen_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('people_count', sa.Integer(), nullable=False),
    sa.Column('sighting_count', sa.Integer(), nullable=False),
    sa.Column('has_deep_water', sa.Boolean(), nullable=False),
    sa.Column('has_suspected_minor', sa.Boolean(), nullable=False),
    sa.Column('is_night', sa.Boolean(), nullable=False),
    sa.Column('warning_count', sa.Integer(), nullable=False),
    sa.Column('last_warned_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalation_rung', sa.Integer(), nullable=False),
    sa.Column('detected_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('warned_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cleared_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('on_scene_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['jurisdictions.id'], name=op.f('fk_incidents_district_id_jurisdictions')),
    sa.ForeignKeyConstraint(['station_id'], ['jurisdictions.id'], name=op.f('fk_incidents_station_id_jurisdictions')),
    sa.ForeignKeyConstraint(['waterway_id'], ['waterways.id'], name=op.f('fk_incidents_waterway_id_waterways')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_station_id'), ['station_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_waterway_id'), ['waterway_id'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('reporting_station_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('is_minor', sa.Boolean(), nullable=False),
    sa.Column('guardian_name', sa.String(length=120), nullable=True),
    sa.Column('guardian_phone', sa.String(length=32), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('redacted_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['jurisdictions.id'], name=op.f('fk_persons_community_id_jurisdictions')),
    sa.ForeignKeyConstraint(['reporting_station_id'], ['jurisdictions.id'], name=op.f('fk_persons_reporting_station_id_jurisdictions')),
    sa.ForeignKeyConstraint(['station_id'], ['jurisdictions.id'], name=op.f('fk_persons_station_id_jurisdictions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_station_id'), ['station_id'], unique=False)

    op.create_table('incident_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_events_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('given_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('given_by', sa.String(length=120), nullable=False),
    sa.Column('modes', sa.JSON(), nullable=False),
    sa.Column('message_key', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_warnings_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_warnings'))
    )
    with op.batch_alter_table('incident_warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_warnings_incident_id'), ['incident_id'], unique=False)

    op.create_table('sightings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('sortie_ref', sa.String(length=64), nullable=True),
    sa.Column('track_id', sa.Integer(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('seen_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('people_count', sa.Integer(), nullable=False),
    sa.Column('is_deep_water', sa.Boolean(), nullable=False),
    sa.Column('is_suspected_minor', sa.Boolean(), nullable=False),
    sa.Column('has_left_water', sa.Boolean(), nullable=False),
    sa.Column('confidence', sa.Double(), nullable=True),
    sa.Column('reported_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_sightings_incident_id_incidents')),
    sa.ForeignKeyConstraint(['station_id'], ['jurisdictions.id'], name=op.f('fk_sightings_station_id_jurisdictions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sightings')),
    sa.UniqueConstraint('client_id', name=op.f('uq_sightings_client_id'))
    )
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sightings_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sightings_seen_at'), ['seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sightings_station_id'), ['station_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_path', sa.String(length=200), nullable=False),
    sa.Column('recipient_unit_id', sa.Integer(), nullable=True),
    sa.Column('recipient_user_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('fanned_out_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_alerts_incident_id_incidents')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_alerts_jurisdiction_id_jurisdictions')),
    sa.ForeignKeyConstraint(['recipient_unit_id'], ['ground_units.id'], name=op.f('fk_alerts_recipient_unit_id_ground_units')),
    sa.ForeignKeyConstraint(['recipient_user_id'], ['users.id'], name=op.f('fk_alerts_recipient_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_fanned_out_at'), ['fanned_out_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_recipient_unit_id'), ['recipient_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_recipient_user_id'), ['recipient_user_id'], unique=False)

    op.create_table('dispatches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('rung', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('sent_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ack_deadline', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
    sa.Column('on_scene_deadline', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('on_scene_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_dispatches_incident_id_incidents')),
    sa.ForeignKeyConstraint(['unit_id'], ['ground_units.id'], name=op.f('fk_dispatches_unit_id_ground_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatches'))
    )
    with op.batch_alter_table('dispatches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispatches_ack_deadline'), ['ack_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatches_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatches_on_scene_deadline'), ['on_scene_deadline'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('sighting_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mime_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('shows_minor', sa.Boolean(), nullable=False),
    sa.Column('captured_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('purged_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_evidence_incident_id_incidents')),
    sa.ForeignKeyConstraint(['sighting_id'], ['sightings.id'], name=op.f('fk_evidence_sighting_id_sightings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_incident_id'), ['incident_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('grid_worker_id', sa.Integer(), nullable=True),
    sa.Column('is_repeat', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['jurisdictions.id'], name=op.f('fk_referrals_community_id_jurisdictions')),
    sa.ForeignKeyConstraint(['grid_worker_id'], ['grid_workers.id'], name=op.f('fk_referrals_grid_worker_id_grid_workers')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_referrals_incident_id_incidents')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_referrals_person_id_persons')),
    sa.ForeignKeyConstraint(['station_id'], ['jurisdictions.id'], name=op.f('fk_referrals_station_id_jurisdictions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_station_id'), ['station_id'], unique=False)

    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('ground_unit_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('key_salt', sa.String(length=32), nullable=False),
    sa.Column('signing_keys', sa.JSON(), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ground_unit_id'], ['ground_units.id'], name=op.f('fk_webhook_endpoints_ground_unit_id_ground_units')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_webhook_endpoints_jurisdiction_id_jurisdictions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoints_jurisdiction_id'), ['jurisdiction_id'], unique=False)

    op.create_table('follow_up_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('owner_grid_worker_id', sa.Integer(), nullable=True),
    sa.Column('due_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=1000), nullable=True),
    sa.Column('done_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=120), nullable=True),
    sa.Column('last_reminder_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminder_count', sa.Integer(), nullable=False),
    sa.Column('escalated_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_follow_up_tasks_jurisdiction_id_jurisdictions')),
    sa.ForeignKeyConstraint(['owner_grid_worker_id'], ['grid_workers.id'], name=op.f('fk_follow_up_tasks_owner_grid_worker_id_grid_workers')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_follow_up_tasks_owner_user_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_follow_up_tasks_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_tasks'))
    )
    with op.batch_alter_table('follow_up_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_tasks_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_tasks_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_tasks_referral_id'), ['referral_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_webhook_deliveries_alert_id_alerts')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_webhook_deliveries_jurisdiction_id_jurisdictions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('alert_id', 'endpoint_id', name=op.f('uq_webhook_deliveries_alert_id')),
    sa.UniqueConstraint('message_id', name=op.f('uq_webhook_deliveries_message_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_jurisdiction_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_endpoint_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_alert_id'))

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('follow_up_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_tasks_referral_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_tasks_jurisdiction_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_tasks_due_at'))

    op.drop_table('follow_up_tasks')
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoints_jurisdiction_id'))

    op.drop_table('webhook_endpoints')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_station_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_person_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_incident_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_community_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_incident_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_created_at'))

    op.drop_table('evidence')
    with op.batch_alter_table('dispatches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispatches_on_scene_deadline'))
        batch_op.drop_index(batch_op.f('ix_dispatches_incident_id'))
        batch_op.drop_index(batch_op.f('ix_dispatches_ack_deadline'))

    op.drop_table('dispatches')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_recipient_user_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_recipient_unit_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_jurisdiction_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_fanned_out_at'))

    op.drop_table('alerts')
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sightings_station_id'))
        batch_op.drop_index(batch_op.f('ix_sightings_seen_at'))
        batch_op.drop_index(batch_op.f('ix_sightings_incident_id'))

    op.drop_table('sightings')
    with op.batch_alter_table('incident_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_warnings_incident_id'))

    op.drop_table('incident_warnings')
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_events_incident_id'))

    op.drop_table('incident_events')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_station_id'))
        batch_op.drop_index(batch_op.f('ix_persons_created_at'))
        batch_op.drop_index(batch_op.f('ix_persons_community_id'))

    op.drop_table('persons')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_waterway_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_station_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_last_seen_at'))
        batch_op.drop_index(batch_op.f('ix_incidents_district_id'))

    op.drop_table('incidents')
    op.drop_table('escalation_policies')

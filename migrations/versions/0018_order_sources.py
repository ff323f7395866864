"""orders in: order sources (store webhooks) and the inbound events they send

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'order_sources',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(length=60), nullable=False, unique=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('enroll_unknown', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'inbound_events',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('source_id', sa.Integer(), sa.ForeignKey('order_sources.id'), nullable=False),
        sa.Column('delivery_id', sa.String(length=200), nullable=False),
        sa.Column('customer', sa.String(length=200), nullable=True),
        sa.Column('topic', sa.String(length=60), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('retries', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint('source_id', 'delivery_id', name='uq_inbound_events_delivery'),
    )
    op.create_index('ix_inbound_events_due', 'inbound_events', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_inbound_events_due', table_name='inbound_events')
    op.drop_table('inbound_events')
    op.drop_table('order_sources')

"""fulfilment: rewards name their provider and gift card (product, face value, delivery) and
a deadline; redemptions carry theirs; fulfilment_jobs hand redemptions to providers after
commit

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('product_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('face_value', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('face_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('delivery', sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column('deadline_hours', sa.Integer(), nullable=False, server_default='720')
        )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('fulfilment_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_ref', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('redemption_id')
    )
    with op.batch_alter_table('fulfilment_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_fulfilment_jobs_due', ['status', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fulfilment_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_fulfilment_jobs_due')
    op.drop_table('fulfilment_jobs')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_column('deadline_at')
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        for column in ('deadline_hours', 'delivery', 'face_currency', 'face_value',
                       'product_id', 'provider'):
            batch_op.drop_column(column)

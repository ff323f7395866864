"""partner clients: revoked_at (tokens refused at once) and a per-client rate-limit bucket

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('secret_rotated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rate_capacity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rate_restore', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.drop_column('rate_restore')
        batch_op.drop_column('rate_capacity')
        batch_op.drop_column('secret_rotated_at')
        batch_op.drop_column('revoked_at')

"""rewards: the tiers that may see a reward, and the period its per-member limit counts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visible_tiers', sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column('limit_period', sa.String(length=10), nullable=False,
                      server_default='LIFETIME')
        )


def downgrade() -> None:
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_column('limit_period')
        batch_op.drop_column('visible_tiers')

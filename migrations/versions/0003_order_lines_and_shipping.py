"""order lines and shipping

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:27:57.018486
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lines', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('shipping', sa.String(length=40), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('shipping')
        batch_op.drop_column('lines')


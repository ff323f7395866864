"""rewards: what a discount code is worth, typed (a fixed amount, a percentage, free
shipping or a free item, off the check or one item), and when an experience takes place; redemptions: where a PHYSICAL reward ships

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REWARD_COLUMNS = (
    ('value_type', 20),
    ('value_amount', 40),
    ('value_currency', 3),
    ('value_sku', 100),
    ('value_level', 10),
)


def upgrade() -> None:
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        for name, length in REWARD_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        batch_op.add_column(sa.Column('experience_at', sa.DateTime(timezone=True), nullable=True))


    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_address', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_column('shipping_address')
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_column('experience_at')
        for name, _ in reversed(REWARD_COLUMNS):
            batch_op.drop_column(name)

"""points at checkout: carts paying with points, and the points discount of an order

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'checkout_carts',
        sa.Column('cart_id', sa.String(length=200), primary_key=True),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('members.id'), nullable=False),
        sa.Column(
            'redemption_id', sa.Integer(), sa.ForeignKey('redemptions.id'), nullable=False,
            unique=True,
        ),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('discount', sa.String(length=40), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('order_ref', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_checkout_carts_member_id', 'checkout_carts', ['member_id'])
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_discount', sa.String(length=40), nullable=True))
    # The system reward the holds redeem (points-at-checkout) is made at the first checkout.


def downgrade() -> None:
    op.drop_index('ix_checkout_carts_member_id', table_name='checkout_carts')
    op.drop_table('checkout_carts')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('points_discount')

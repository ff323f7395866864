"""redemptions: a lifecycle (kind, delivery, updated_at), its history (redemption_events,
numbered per member) and every code given out (reward_codes); existing redemptions get
their history and their codes backfilled

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=40), nullable=False, server_default='DISCOUNT_CODE')
        )
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivery', sa.JSON(), nullable=True))
    op.create_table('redemption_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'version', name='uq_redemption_events_member_version')
    )
    with op.batch_alter_table('redemption_events', schema=None) as batch_op:
        batch_op.create_index(
            'ix_redemption_events_redemption', ['redemption_id', 'id'], unique=False
        )
    op.create_table('reward_codes',
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], ),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], ),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('reward_codes', schema=None) as batch_op:
        batch_op.create_index('ix_reward_codes_pool', ['reward_id', 'redemption_id'], unique=False)
    _backfill()


def _backfill() -> None:
    """Each existing redemption: its codes findable, and a history of what is known (held
    when created; fulfilled or cancelled when resolved), numbered per member in time order.
    In SQL, so it runs the same on both backends whatever their drivers return."""
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "INSERT INTO redemption_events "
            "(redemption_id, member_id, version, status, at, actor, detail) "
            "SELECT redemption_id, member_id, "
            "ROW_NUMBER() OVER (PARTITION BY member_id ORDER BY at, redemption_id, seq), "
            "status, at, 'migration', 'recorded before redemption history was kept' FROM ("
            "SELECT id AS redemption_id, member_id, 'HELD' AS status, created_at AS at, 0 AS seq "
            "FROM redemptions UNION ALL "
            "SELECT id, member_id, status, resolved_at, 1 FROM redemptions "
            "WHERE status <> 'HELD' AND resolved_at IS NOT NULL) AS changes"
        )
    )
    if conn.dialect.name == "postgresql":
        elements = "json_array_elements_text(r.codes::json) AS j(value)"
    else:
        elements = "json_each(r.codes) AS j"
    conn.execute(
        sa.text(
            "INSERT INTO reward_codes (code, reward_id, redemption_id, added_at) "
            f"SELECT j.value, r.reward_id, r.id, r.created_at FROM redemptions r, {elements}"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table('reward_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_reward_codes_pool')
    op.drop_table('reward_codes')
    with op.batch_alter_table('redemption_events', schema=None) as batch_op:
        batch_op.drop_index('ix_redemption_events_redemption')
    op.drop_table('redemption_events')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_column('delivery')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('kind')

"""member tiers: a stored tier standing per member; reversals counted when earned; activities linked to their earn

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 07:09:07.517233
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('member_tiers',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('tier_key', sa.String(length=100), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('grace_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('earlier', sa.JSON(), nullable=True),
    sa.Column('program_version', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('member_tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_tiers_review_at'), ['review_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_tiers_program_version'), ['program_version'], unique=False)

    # Points a return could not take back (spent): they still leave the tier measure.
    op.create_table('unreversed_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('counts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('unreversed_points', schema=None) as batch_op:
        batch_op.create_index('ix_unreversed_member_at', ['member_id', 'counts_at'], unique=False)
    op.execute(
        "INSERT INTO unreversed_points (member_id, points, counts_at, order_id, created_at) "
        "SELECT member_id, shortfall, occurred_at, id, created_at FROM orders "
        "WHERE shortfall > 0"
    )

    # A reversal counts for the tier measure when the earn it reverses was made.
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counts_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE transfers SET counts_at = (SELECT occurred_at FROM orders "
        "WHERE orders.id = transfers.order_id) "
        "WHERE kind = 'RETURN' AND order_id IS NOT NULL"
    )
    # A referral claw-back (no order of its own) counts when the award was made: the
    # referral whose order was returned in the same transaction.
    op.execute(
        "UPDATE transfers SET counts_at = (SELECT MIN(r.awarded_at) FROM referrals r "
        "WHERE r.status = 'REVERSED' "
        "AND (r.referee_id = transfers.member_id OR r.referrer_id = transfers.member_id) "
        "AND EXISTS (SELECT 1 FROM transfers o WHERE o.order_id = r.order_id "
        "AND o.kind = 'RETURN' AND o.created_at = transfers.created_at)) "
        "WHERE kind = 'RETURN' AND order_id IS NULL AND reference = 'referral:reversed'"
    )
    # ... or, where that order's points had all been spent (no reversal of it was
    # posted), the member's reversed referral award: the best the old rows can tell.
    op.execute(
        "UPDATE transfers SET counts_at = (SELECT MIN(r.awarded_at) FROM referrals r "
        "WHERE r.status = 'REVERSED' "
        "AND (r.referee_id = transfers.member_id OR r.referrer_id = transfers.member_id)) "
        "WHERE kind = 'RETURN' AND order_id IS NULL AND reference = 'referral:reversed' "
        "AND counts_at IS NULL"
    )
    # A reversed referral award the member had spent was not (all) taken back: what was
    # not leaves the tier measure too, as it does from now on.
    for member, points in (("referrer_id", "referrer_points"), ("referee_id", "referee_points")):
        taken = (
            "COALESCE((SELECT SUM(t.amount) FROM transfers t WHERE t.kind = 'RETURN' "
            "AND t.reference = 'referral:reversed' "
            f"AND t.member_id = r.{member} AND t.counts_at = r.awarded_at), 0)"
        )
        op.execute(
            "INSERT INTO unreversed_points (member_id, points, counts_at, created_at) "
            f"SELECT r.{member}, r.{points} - {taken}, r.awarded_at, r.awarded_at "
            f"FROM referrals r WHERE r.status = 'REVERSED' AND r.{points} > {taken}"
        )

    # An activity points at its earn, so the earn's ledger entries show why it earned.
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transfer_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_activities_transfer_id'), ['transfer_id'], unique=False)
        batch_op.create_foreign_key('fk_activities_transfer_id', 'transfers', ['transfer_id'], ['id'])
    op.execute(
        "UPDATE activities SET transfer_id = (SELECT MIN(t.id) FROM transfers t "
        "WHERE t.member_id = activities.member_id AND t.kind = 'EARN' "
        "AND t.reference = 'activity:' || activities.kind "
        "AND t.occurred_at = activities.occurred_at) "
        "WHERE points > 0"
    )

    # Members enrolled before tiers were stored: no tier yet, due at once, so the next
    # sweep stores the tier their measure supports (what they were shown until now).
    op.execute(
        "INSERT INTO member_tiers (member_id, since, settled_at, review_at, updated_at) "
        "SELECT id, enrolled_at, enrolled_at, enrolled_at, enrolled_at FROM members"
    )


def downgrade() -> None:
    with op.batch_alter_table('member_tiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_tiers_program_version'))
        batch_op.drop_index(batch_op.f('ix_member_tiers_review_at'))

    op.drop_table('member_tiers')
    with op.batch_alter_table('unreversed_points', schema=None) as batch_op:
        batch_op.drop_index('ix_unreversed_member_at')
    op.drop_table('unreversed_points')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint('fk_activities_transfer_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_activities_transfer_id'))
        batch_op.drop_column('transfer_id')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_column('counts_at')

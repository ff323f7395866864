"""published events: the outbox's public event type and its place in commit order

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.domain.published.event_type, as SQL, for the rows written before it existed.
_KIND = {
    'sqlite': "json_extract(payload, '$.{key}')",
    'postgresql': "(payload::jsonb ->> '{key}')",
}


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('sequence', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint('uq_outbox_sequence', ['sequence'])
    field = _KIND[op.get_bind().dialect.name]
    kind, delta, pending, status = (
        field.format(key=k) for k in ('kind', 'delta', 'pendingDelta', 'status')
    )
    op.execute(f"""
        UPDATE outbox SET event_type = CASE
          WHEN topic = 'balance.changed' AND {kind} = 'EARN'
               AND CAST({delta} AS INTEGER) = 0 AND CAST({pending} AS INTEGER) > 0
            THEN 'points.pending'
          WHEN topic = 'balance.changed' AND {kind} = 'EARN' THEN 'points.earned'
          WHEN topic = 'balance.changed' AND {kind} = 'RELEASE' THEN 'points.released'
          WHEN topic = 'balance.changed' AND {kind} = 'RETURN' THEN 'points.reversed'
          WHEN topic = 'balance.changed' AND {kind} = 'ADJUST' THEN 'points.adjusted'
          WHEN topic = 'balance.changed' AND {kind} = 'EXPIRE' THEN 'points.expired'
          WHEN topic = 'balance.changed' THEN NULL
          WHEN topic = 'redemption.updated' AND {status} = 'HELD' THEN 'redemption.created'
          WHEN topic = 'redemption.updated' THEN 'redemption.updated'
          ELSE topic
        END
    """)
    # Everything already here has committed: its commit order is its id order.
    op.execute("UPDATE outbox SET sequence = id WHERE event_type IS NOT NULL")
    where = sa.text("sequence IS NULL AND event_type IS NOT NULL")
    op.create_index(
        'ix_outbox_unsequenced', 'outbox', ['id'], sqlite_where=where, postgresql_where=where
    )


def downgrade() -> None:
    op.drop_index('ix_outbox_unsequenced', table_name='outbox')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbox_sequence', type_='unique')
        batch_op.drop_column('sequence')
        batch_op.drop_column('event_type')

"""rewards: where each comes from (the program file, or the catalog API) and where its
codes come from (generated, or drawn from an imported pool)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('source', sa.String(length=20), nullable=False, server_default='program')
        )
        batch_op.add_column(
            sa.Column('code_source', sa.String(length=20), nullable=False,
                      server_default='GENERATED')
        )


def downgrade() -> None:
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_column('code_source')
        batch_op.drop_column('source')

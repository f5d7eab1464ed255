"""trips: the rules their statistics were computed by (older ones are recomputed)

Existing trips get NULL: computed before the rules were versioned. The server's sweeper
recomputes them from their stored fixes (``services.ingest.refresh_outdated_stats``), not
this migration: a migration must not run the statistics of every trip.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 22:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stats_rules', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_trips_stats_rules'), ['stats_rules'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trips_stats_rules'))
        batch_op.drop_column('stats_rules')

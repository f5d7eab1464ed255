"""trips: the rules their highway use was judged by (older ones are matched again)

Existing trips get NULL: judged before the rules were versioned. The server's sweeper
matches them again from their stored fixes (``services.ingest.refresh_outdated_highway_use``)
when routing tiles or a routing server are there, not this migration: a migration must not
map-match every trip.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 08:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('highway_rules', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_trips_highway_rules'), ['highway_rules'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trips_highway_rules'))
        batch_op.drop_column('highway_rules')

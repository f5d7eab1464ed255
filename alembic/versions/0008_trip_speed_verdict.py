"""trips: the speed verdict of the log a trip was cut from

A tracker's log cut into trips at its long stops: each trip is measured by the log's speed
field as the whole log was (``core.track.TrackArrays.speed_verdict``). Existing trips get
NULL: judged on their own fixes, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('speed_verdict', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_column('speed_verdict')

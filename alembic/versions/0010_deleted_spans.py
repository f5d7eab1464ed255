"""deleted_spans: the time spans of deleted logger trips

A logger's trip deleted by its owner came back when the rest of its drive arrived later (a
phone's backlog after a dead spot, or the rest of a drive deleted while open): its fixes
had left the device's log, and the late ones were cut into a trip of their own that even
bridged the deleted part. The span (times only) is kept for a while, and fixes of that
drive arriving later are dropped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'deleted_spans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('from_ms', sa.BigInteger(), nullable=False),
        sa.Column('to_ms', sa.BigInteger(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['ingest_devices.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        op.f('ix_deleted_spans_device_id'), 'deleted_spans', ['device_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_deleted_spans_device_id'), table_name='deleted_spans')
    op.drop_table('deleted_spans')

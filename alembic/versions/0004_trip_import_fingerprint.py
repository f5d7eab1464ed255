"""trips: import fingerprint (a GPX imported twice is recognised)

Revision ID: 0004
Revises: ingest_0001
Create Date: 2026-12-02 06:35:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = 'ingest_0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_trips_import_fingerprint'), ['import_fingerprint'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trips_import_fingerprint'))
        batch_op.drop_column('import_fingerprint')

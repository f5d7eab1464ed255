"""ingest_devices: the vehicle a logger's trips are driven in

A background logger's trips took no vehicle, so no speed cap: "time above the cap" was never
measured for them. A device may now name its vehicle (``kei-drive devices set --vehicle``);
without one its trips take the account's only vehicle. Existing devices get NULL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('ingest_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vehicle_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_ingest_devices_vehicle_id_vehicles', 'vehicles', ['vehicle_id'], ['id'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('ingest_devices', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ingest_devices_vehicle_id_vehicles', type_='foreignkey')
        batch_op.drop_column('vehicle_id')

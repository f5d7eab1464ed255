"""trips.time_zone: the zone a trip's times are shown in

Trip pages showed a trip's times in the viewer's zone, while its name said them in the
driver's: a drive in Denver named "08:00 MDT" read "10:00 AM EDT" back home in Baltimore. The
IANA zone the trip was named in (the phone's when it finished recording, the browser's at a
GPX import) is kept, and its times are shown in it. Existing trips get NULL (the viewer's).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 13:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_column('time_zone')

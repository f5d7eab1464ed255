"""local permits per user: each account's "my town allows Kei" statements

A new table; nothing existing changes. The pre-accounts permits file
(``KEI_DRIVE_LOCAL_PERMITS``) is imported into the owner's row at the first start
(``kei_drive/db/legacy_files.py``), not here: a migration must not depend on files.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('local_permits',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('local_permits')

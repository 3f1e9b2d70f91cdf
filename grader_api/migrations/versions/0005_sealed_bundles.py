"""sealed bundles: a published version stores the bundle it grades with; a dry run stores the bundle
it checked and its planted bugs' verdicts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions published before keep no bundle: they grade from their text, as they did.
    with op.batch_alter_table('suite_versions') as batch_op:
        batch_op.add_column(sa.Column('bundle', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('bundle_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('suite_checks') as batch_op:
        batch_op.add_column(sa.Column('mutants', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('bundle', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('bundle_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('suite_checks') as batch_op:
        for column in ('bundle_sha256', 'bundle', 'mutants'):
            batch_op.drop_column(column)
    with op.batch_alter_table('suite_versions') as batch_op:
        for column in ('bundle_sha256', 'bundle'):
            batch_op.drop_column(column)

"""suite checks: instructors' suites waiting for their dry run on a worker

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:25:52.517520
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grader_api.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suite_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('yaml_text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('suite_id', sa.String(length=100), nullable=False),
    sa.Column('queue', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('automatic_max_score', sa.Float(), nullable=True),
    sa.Column('failing_tests', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', grader_api.db.UTCDateTime(), nullable=False),
    sa.Column('finished_at', grader_api.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('suite_checks')

"""dry run attempts: suite checks are jobs like grading runs (task id per publish, attempts, deadline)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grader_api.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Checks waiting when the grader is upgraded were published without a task id or a time limit the
# reconciler could use; they are failed with a reason the instructor can act on.
_INTERRUPTED = "interrupted by an upgrade of the grader; check the suite again"


def upgrade() -> None:
    with op.batch_alter_table('suite_checks') as batch_op:
        batch_op.add_column(sa.Column('time_limit_s', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('task_id', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('deadline_at', grader_api.db.UTCDateTime(), nullable=True))
    op.execute(sa.text("UPDATE suite_checks SET status = 'failed', error = :error WHERE status IN ('queued', 'running')")
               .bindparams(error=_INTERRUPTED))
    # The defaults only filled the existing rows; new rows get their values from the application.
    with op.batch_alter_table('suite_checks') as batch_op:
        for column in ('time_limit_s', 'task_id', 'attempts'):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('suite_checks') as batch_op:
        for column in ('deadline_at', 'attempts', 'claim_token', 'task_id', 'time_limit_s'):
            batch_op.drop_column(column)

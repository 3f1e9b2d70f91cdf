"""sessions and sign-in throttling: server-side browser sessions and recent failed sign-ins
(API tokens need no column: they expire DGM_API_TOKEN_MAX_AGE_DAYS after their created_at)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grader_api.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', grader_api.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', grader_api.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', grader_api.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id_sha256')
    )
    op.create_index(op.f('ix_sessions_user_id'), 'sessions', ['user_id'], unique=False)
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('at', grader_api.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_login_attempts_email_at'), 'login_attempts', ['email', 'at'], unique=False)
    op.create_index(op.f('ix_login_attempts_ip_at'), 'login_attempts', ['ip', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_login_attempts_ip_at'), table_name='login_attempts')
    op.drop_index(op.f('ix_login_attempts_email_at'), table_name='login_attempts')
    op.drop_table('login_attempts')
    op.drop_index(op.f('ix_sessions_user_id'), table_name='sessions')
    op.drop_table('sessions')

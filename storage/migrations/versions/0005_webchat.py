"""web chat: the history of each web conversation (web_messages)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 03:19:08.182003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('web_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_key', sa.String(length=64), nullable=False),
    sa.Column('author', sa.Enum('citizen', 'bot', 'staff', name='web_author', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('buttons', sa.JSON(), nullable=True),
    sa.Column('expects_text', sa.Boolean(), nullable=False),
    sa.Column('language', sa.Enum('kk', 'ru', 'en', name='language', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('outbox_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_web_messages_outbox_id_outbox'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_messages')),
    sa.UniqueConstraint('outbox_id', name=op.f('uq_web_messages_outbox_id'))
    )
    with op.batch_alter_table('web_messages', schema=None) as batch_op:
        batch_op.create_index('ix_web_messages_chat', ['chat_key', 'id'], unique=False)
        batch_op.create_index('ix_web_messages_created_at', ['created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('web_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_web_messages_created_at')
        batch_op.drop_index('ix_web_messages_chat')

    op.drop_table('web_messages')

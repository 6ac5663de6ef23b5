"""batches: recall affected batches, EPCIS event ids

Revision ID: 80a1b8ba4b43
Revises: ba2ff5e1946c
Create Date: 2026-11-22 04:25:41.518995

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = '80a1b8ba4b43'
down_revision = 'ba2ff5e1946c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recall_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recall_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.CheckConstraint('depth >= 0', name=op.f('ck_recall_batch_depth')),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_recall_batch_batch_id_batch')),
    sa.ForeignKeyConstraint(['recall_id'], ['recall.id'], name=op.f('fk_recall_batch_recall_id_recall'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_batch')),
    sa.UniqueConstraint('recall_id', 'batch_id', name=op.f('uq_recall_batch_recall_id_batch_id'))
    )
    with op.batch_alter_table('recall_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_batch_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_batch_recall_id'), ['recall_id'], unique=False)

    with op.batch_alter_table('recall', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('close_note', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_recall_closed_by_id_user'), 'user', ['closed_by_id'], ['id'])

    with op.batch_alter_table('trace_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epcis_event_id', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_trace_event_epcis_event_id'), ['epcis_event_id'])



def downgrade():
    with op.batch_alter_table('trace_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_trace_event_epcis_event_id'), type_='unique')
        batch_op.drop_column('epcis_event_id')

    with op.batch_alter_table('recall', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recall_closed_by_id_user'), type_='foreignkey')
        batch_op.drop_column('close_note')
        batch_op.drop_column('closed_by_id')

    with op.batch_alter_table('recall_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_batch_recall_id'))
        batch_op.drop_index(batch_op.f('ix_recall_batch_batch_id'))

    op.drop_table('recall_batch')

"""Label jobs remember the language of whoever asked for them

``label_job`` gains ``locale``: the interface language of the web request,
or the API caller's (``Accept-Language``, else their saved language), that
asked for the sheet. The worker draws the sheet's words (the serial number's
caption) in it. Jobs asked for so far were drawn in Vietnamese and keep it.

Revision ID: 7a1c0b13d011
Revises: 7a1c0b13d010
Create Date: 2026-12-11 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7a1c0b13d011"
down_revision = "7a1c0b13d010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("label_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=False, server_default="vi"))


def downgrade():
    with op.batch_alter_table("label_job", schema=None) as batch_op:
        batch_op.drop_column("locale")

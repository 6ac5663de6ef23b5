"""The audit log: one hash chain per centre and one national chain, and verification checkpoints

Every audit entry used to be appended to one chain under one national lock,
so every write in every province waited for every other. Now each centre has
its own chain and the ministry's entries (and any without a centre) form the
national chain: ``audit_entry`` gains ``chain``, ``position`` (from 1 in its
chain) and ``hash_version``; ``audit_head`` keeps one head per chain; and
``audit_checkpoint`` keeps the head the last ``audit verify`` found intact.

The entries written so far stay exactly as they are, as the first entries
of the national chain (``hash_version`` 1: their hashes cover neither chain
nor position, and their position is their id), so they verify as before
and every head kept outside the database (``--expect``) still holds. On
PostgreSQL the entry ids come from the table's sequence from now on, set
past the newest entry.

Revision ID: 7a1c0b13d012
Revises: 7a1c0b13d011
Create Date: 2026-12-12 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import traceability.core.database

# revision identifiers, used by Alembic.
revision = "7a1c0b13d012"
down_revision = "7a1c0b13d011"
branch_labels = None
depends_on = None


def _head_table(name):
    return op.create_table(
        name,
        sa.Column("chain", sa.String(length=24), nullable=False),
        sa.Column("last_position", sa.Integer(), nullable=False),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("last_entry_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "verified_at" if name == "audit_checkpoint" else "updated_at",
            traceability.core.database.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("chain", name=op.f(f"pk_{name}")),
    )


def upgrade():
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("chain", sa.String(length=24), nullable=False, server_default="national")
        )
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hash_version", sa.SmallInteger(), nullable=False, server_default="1"))
    # The existing entries are the national chain's first ones, at the positions their ids gave them.
    op.execute("UPDATE audit_entry SET position = id")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.alter_column("position", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("chain", existing_type=sa.String(length=24), server_default=None)
        batch_op.alter_column("hash_version", existing_type=sa.SmallInteger(), server_default=None)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_entry_chain_position"), ["chain", "position"])

    # One head per chain: the old single head becomes the national chain's.
    old_head = (
        op.get_bind()
        .execute(sa.text("SELECT last_entry_id, last_entry_hash, updated_at FROM audit_head WHERE id = 1"))
        .first()
    )
    op.drop_table("audit_head")
    _head_table("audit_head")
    if old_head is not None:
        # As read, so the stored instant goes back exactly as it was (text on SQLite).
        op.get_bind().execute(
            sa.text(
                "INSERT INTO audit_head (chain, last_position, last_entry_id, last_entry_hash, updated_at) "
                "VALUES ('national', :entry_id, :entry_id, :entry_hash, :updated_at)"
            ),
            {
                "entry_id": old_head.last_entry_id,
                "entry_hash": old_head.last_entry_hash,
                "updated_at": old_head.updated_at,
            },
        )
    _head_table("audit_checkpoint")

    if op.get_bind().dialect.name == "postgresql":
        # Ids were max + 1 under the national lock; from now on they come from the sequence.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_entry', 'id'), "
            "COALESCE((SELECT max(id) FROM audit_entry), 0) + 1, false)"
        )


def downgrade():
    # Back to one chain: only the national chain's legacy entries verify under the old code;
    # entries written per centre since stay in the table but break the old single chain.
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_head")
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("last_entry_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.execute(
        "INSERT INTO audit_head (id, last_entry_id, last_entry_hash, updated_at) "
        "SELECT 1, id, entry_hash, occurred_at FROM audit_entry "
        "WHERE id = (SELECT max(id) FROM audit_entry)"
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_entry_chain_position"), type_="unique")
        batch_op.drop_column("hash_version")
        batch_op.drop_column("position")
        batch_op.drop_column("chain")

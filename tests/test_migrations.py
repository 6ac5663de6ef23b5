"""The committed migrations build exactly the schema the models describe, on this suite's database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, inspect, text

from tests.databases import scratch_database
from traceability import create_app
from traceability.core.config import TestConfig
from traceability.core.extensions import db
from traceability.core.partitions import alembic_include_name


@pytest.fixture
def empty_database_url(database_url: str, tmp_path) -> Iterator[str]:
    """A brand-new empty database of the suite's kind (a file, or a new PostgreSQL database)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    with scratch_database(database_url, f"drift_{uuid.uuid4().hex[:12]}") as url:
        yield url


def _fresh_app(url: str):
    class FreshConfig(TestConfig):
        DATABASE_URL = url

    return create_app(FreshConfig)


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = _fresh_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            # The scans' month partitions (PostgreSQL) are the database's, not the models'.
            include_name = alembic_include_name(db.metadata)
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            differences = compare_metadata(context, db.metadata)
            inspector = inspect(connection)
            # Alembic does not compare check constraints: compare their names here.
            checks_in_database = {
                (table, check["name"])
                for table in inspector.get_table_names()
                if include_name(table, "table", {})
                for check in inspector.get_check_constraints(table)
            }
        db.engine.dispose()
    assert differences == [], "models and migrations disagree: run `flask --app wsgi db migrate`"
    checks_in_models = {
        (table.name, constraint.name)
        for table in db.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert len(checks_in_models) > 20
    assert checks_in_database == checks_in_models


def test_downgrade_to_empty_and_upgrade_again(empty_database_url):
    app = _fresh_app(empty_database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert remaining == set()
    assert {"batch", "trace_event", "producer", "audit_entry"} <= tables


def test_upgrade_keeps_existing_rows_and_fills_new_columns(empty_database_url):
    app = _fresh_app(empty_database_url)
    with app.app_context():
        upgrade(revision="865c03bfd597")  # the first schema, before product images and search text
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO centre (id, province_code, name, address, phone, email, created_at) "
                    "VALUES (1, '66', 'Trung tâm Đắk Lắk', '', '', '', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO producer (id, centre_id, name, kind, province_code, ward, street, phone, email, "
                    "website, status, created_at, updated_at) VALUES (1, 1, 'HTX Cà phê Ea Tu', 'cooperative', '66', "
                    "'', '', '', '', '', 'approved', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO product (id, producer_id, name, description, category, brand, standards, is_flagship, "
                    "ocop_group, ocop_stars, shop_links, created_at, updated_at) VALUES (1, 1, 'Cà phê rang Đắk Lắk', "
                    "'', '', '', '', false, 'food', 5, '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO batch (id, product_id, lot_code, public_code, production_date, quantity, unit, status, "
                    "created_at) VALUES (1, 1, 'L1', 'ABCDEFGHIJKLMNOP', '2026-01-01', 5, 'KGM', 'active', "
                    "CURRENT_TIMESTAMP)"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            product = connection.execute(
                text("SELECT ocop_stars, is_flagship, search_text FROM product")
            ).one()
            claim = connection.execute(
                text("SELECT type, scope, claim_ocop_group, claim_ocop_stars, status FROM certification")
            ).one()
            producer_search = connection.execute(text("SELECT search_text FROM producer")).scalar_one()
            batches = connection.execute(text("SELECT count(*) FROM batch")).scalar_one()
        db.engine.dispose()
    # The producer's OCOP data becomes a declared claim: nothing public until its centre verifies it.
    assert product.ocop_stars is None and not product.is_flagship
    assert tuple(claim) == ("ocop", "product", "food", 5, "pending")
    assert product.search_text == "ca phe rang dak lak"
    assert producer_search == "htx ca phe ea tu"
    assert batches == 1


def test_upgrade_keeps_every_scan_and_counts_them_by_vietnamese_day(empty_database_url):
    app = _fresh_app(empty_database_url)
    with app.app_context():
        upgrade(revision="7a1c0b13d011")  # before scan_daily and the partitions
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO centre (id, province_code, name, address, phone, email, created_at) "
                    "VALUES (1, '66', 'Trung tâm Đắk Lắk', '', '', '', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO producer (id, centre_id, name, kind, province_code, ward, street, phone, email, "
                    "website, status, created_at, updated_at, search_text) VALUES (1, 1, "
                    "'HTX Ea Tu', 'cooperative', '66', '', '', '', '', '', 'approved', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP, '')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO product (id, producer_id, name, description, category, brand, standards, "
                    "is_flagship, shop_links, created_at, updated_at, search_text) VALUES (1, 1, 'Cà phê', '', "
                    "'', '', '', false, '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO batch (id, product_id, lot_code, public_code, production_date, quantity, unit, "
                    "status, created_at) VALUES (1, 1, 'L1', 'ABCDEFGHIJKLMNOP', '2026-01-01', 5, 'KGM', "
                    "'active', CURRENT_TIMESTAMP)"
                )
            )
            # 16:30 UTC is 23:30 in Vietnam, 17:30 UTC 00:30 the next day; one scan years back.
            for scan_id, moment in enumerate(
                ("2026-03-01 16:30:00", "2026-03-01 17:30:00", "2026-03-01 17:45:00", "2021-07-09 03:00:00"),
                start=1,
            ):
                connection.execute(
                    text(
                        "INSERT INTO scan (id, batch_id, scanned_at, language, device_class) "
                        "VALUES (:id, 1, :moment, 'vi', 'mobile')"
                    ),
                    {"id": scan_id, "moment": moment if "sqlite" in empty_database_url else moment + "+00"},
                )
        upgrade()
        with db.engine.begin() as connection:
            scans = connection.execute(text("SELECT id FROM scan ORDER BY id")).scalars().all()
            daily = connection.execute(text("SELECT day, count FROM scan_daily ORDER BY day")).all()
            partitioned = None
            if connection.dialect.name == "postgresql":
                partitioned = (
                    connection.execute(
                        text(
                            "SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = inhrelid "
                            "WHERE inhparent = 'scan'::regclass"
                        )
                    )
                    .scalars()
                    .all()
                )
                # New scans take ids after the kept ones (the sequence went with the table).
                connection.execute(
                    text(
                        "INSERT INTO scan (batch_id, scanned_at, language, device_class) "
                        "VALUES (1, now(), 'vi', 'mobile')"
                    )
                )
                assert connection.execute(text("SELECT max(id) FROM scan")).scalar_one() == 5
        db.engine.dispose()
    assert scans == [1, 2, 3, 4]
    assert [(str(day), count) for day, count in daily] == [
        ("2021-07-09", 1),
        ("2026-03-01", 1),
        ("2026-03-02", 2),
    ]
    if partitioned is not None:
        assert {"scan_default", "scan_y2021m07", "scan_y2026m03"} <= set(partitioned)

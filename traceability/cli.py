"""Flask commands: create-centre, create-user and seed-demo."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from traceability.accounts.service import create_user
from traceability.core.errors import DomainError
from traceability.core.extensions import db
from traceability.models.accounts import ROLES
from traceability.models.registry import Centre, Producer
from traceability.registry.centres import create_centre


def _fail(error: DomainError) -> None:
    db.session.rollback()
    details = "; ".join(f"{name}: {message}" for name, message in error.fields.items())
    raise click.ClickException(f"{error.message} {details}".strip())


def register(app: Flask) -> None:
    """Attach the commands to ``app``."""
    from traceability.audit.commands import audit_cli, retention_cli
    from traceability.backup.commands import backup_command, restore_command
    from traceability.batches.epcis_commands import epcis_cli
    from traceability.batches.label_commands import labels_cli
    from traceability.jobs.commands import worker_command
    from traceability.public.scan_commands import scans_cli

    app.cli.add_command(audit_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(labels_cli)
    app.cli.add_command(epcis_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(scans_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

    @app.cli.command("create-centre")
    @click.option("--province", "province_code", required=True, help="Province statistics code, e.g. 66.")
    @click.option("--name", required=True, help="The centre's name.")
    def create_centre_command(province_code: str, name: str) -> None:
        """Create the technology application and transfer centre of a province."""
        try:
            centre = create_centre(province_code=province_code, name=name)
        except DomainError as error:
            _fail(error)
        db.session.commit()
        click.echo(f"Created centre {centre.id}: {centre.name} ({centre.province_name})")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--password", required=True)
    @click.option("--role", required=True, type=click.Choice(ROLES))
    @click.option("--centre", "centre_code", help="Province code of the user's centre (centre roles).")
    @click.option("--producer-id", type=int, help="The producer a producer user belongs to.")
    @click.option("--name", default="")
    def create_user_command(
        email: str, password: str, role: str, centre_code: str | None, producer_id: int | None, name: str
    ) -> None:
        """Create a user with a role, tied to its centre or producer."""
        centre = None
        if centre_code:
            centre = db.session.scalar(select(Centre).where(Centre.province_code == centre_code))
            if centre is None:
                raise click.ClickException(f"No centre for province {centre_code}; run create-centre first.")
        producer = None
        if producer_id is not None:
            producer = db.session.get(Producer, producer_id)
            if producer is None:
                raise click.ClickException(f"No producer with id {producer_id}.")
        try:
            user = create_user(
                email=email, password=password, role=role, name=name, centre=centre, producer=producer
            )
        except DomainError as error:
            _fail(error)
        db.session.commit()
        click.echo(f"Created user {user.id}: {user.email} ({user.role})")

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load Vietnamese demo data (idempotent) and print the demo logins."""
        from traceability.demo.loader import seed_demo

        for line in seed_demo():
            click.echo(line)

"""The create-centre and create-user commands."""

from sqlalchemy import select

from traceability.models.accounts import User
from traceability.models.registry import Centre


def test_create_centre_then_staff_user(runner, db):
    result = runner.invoke(args=["create-centre", "--province", "66", "--name", "Trung tâm Đắk Lắk"])
    assert result.exit_code == 0, result.output
    assert "Đắk Lắk" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Staff@DakLak.vn",
            "--password",
            "long-enough-1",
            "--role",
            "centre_staff",
            "--centre",
            "66",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "staff@daklak.vn"))
    assert user.role == "centre_staff"
    assert user.centre.province_code == "66"


def test_create_centre_twice_in_one_province_is_refused(runner, db):
    runner.invoke(args=["create-centre", "--province", "40", "--name", "Trung tâm Nghệ An"])
    result = runner.invoke(args=["create-centre", "--province", "40", "--name", "Trung tâm khác"])
    assert result.exit_code != 0
    assert db.session.scalar(select(db.func.count(Centre.id))) == 1


def test_create_centre_with_unknown_province_is_refused(runner, db):
    result = runner.invoke(args=["create-centre", "--province", "99", "--name", "Không có"])
    assert result.exit_code != 0
    assert "province_code" in result.output


def test_create_user_for_a_centre_role_needs_a_centre(runner, db):
    result = runner.invoke(
        args=["create-user", "--email", "a@b.vn", "--password", "long-enough-1", "--role", "auditor"]
    )
    assert result.exit_code != 0
    assert db.session.scalar(select(db.func.count(User.id))) == 0


def test_create_producer_user_and_short_password(runner, make, db):
    producer = make.producer(make.centre("66"))
    db.session.commit()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "p@b.vn",
            "--password",
            "short",
            "--role",
            "producer",
            "--producer-id",
            str(producer.id),
        ]
    )
    assert result.exit_code != 0
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "p@b.vn",
            "--password",
            "long-enough-1",
            "--role",
            "producer",
            "--producer-id",
            str(producer.id),
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "p@b.vn",
            "--password",
            "long-enough-1",
            "--role",
            "producer",
            "--producer-id",
            str(producer.id),
        ]
    )
    assert result.exit_code != 0

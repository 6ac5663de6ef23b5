"""Product photos: uploads on the product page and the API, refusals that leave nothing behind."""

import io
import random
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from traceability.models.audit import AuditEntry
from traceability.models.registry import Product, ProductImage
from traceability.registry import product_images as product_service
from traceability.registry.product_images import add_product_image


@pytest.fixture
def english(client):
    """Pages and API messages in English, so the tests read what a user reads."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def images(app) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]) / "images"


def _files(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def _picture(kind: str = "PNG", size: tuple[int, int] = (900, 600), colour=(180, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=kind)
    return buffer.getvalue()


def _upload(web, product, data: bytes, filename: str = "photo.png", **kwargs):
    url = f"/manage/products/{product.id}"
    return web.post_form(
        f"{url}/images",
        {"file": (io.BytesIO(data), filename)},
        form_url=url,
        content_type="multipart/form-data",
        **kwargs,
    )


def _image_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ProductImage))


def test_a_photo_uploaded_on_the_product_page_is_stored_with_its_thumbnail(web, tenants, db, images):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    response = _upload(web, own.product, _picture("PNG", (3200, 2000)))
    assert response.status_code == 302
    image = db.session.scalars(select(ProductImage)).one()
    assert (image.width, image.height, image.position) == (1600, 1000, 0)
    assert {image.filename, image.thumbnail_filename} <= _files(images)
    page = web.client.get(f"/manage/products/{own.product.id}").get_data(as_text=True)
    assert f'src="/media/{image.thumbnail_filename}"' in page
    with web.client.get(f"/media/{image.thumbnail_filename}") as thumbnail:
        assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert db.session.scalars(select(AuditEntry.object_type).where(AuditEntry.action == "create")).all() == [
        "ProductImage"
    ]


def test_a_jpeg_uploaded_through_the_api_appears_on_the_product(api, tenants, db):
    own = tenants["daklak"]
    response = api.post(
        f"/products/{own.product.id}/images",
        own.producer_user,
        data={"file": (io.BytesIO(_picture("JPEG", (800, 800))), "anh.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["position"] == 0 and body["thumbnail_url"].startswith("http")
    product = api.get(f"/products/{own.product.id}", own.producer_user).get_json()
    assert [image["id"] for image in product["images"]] == [body["id"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "This file is not a PNG, JPEG or WebP image."),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, "The image file is damaged."),
        (b"", "The file is empty."),
    ],
    ids=["text-named-png", "damaged", "empty"],
)
def test_a_file_that_is_not_an_image_is_refused_with_the_reason(
    web, tenants, db, images, english, data, message
):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    before = _files(images)
    response = _upload(web, own.product, data, "photo.png")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _files(images) == before and _image_count(db) == 0


def test_an_oversized_upload_is_refused_on_the_web_and_the_api(
    web, api, tenants, db, images, english, monkeypatch, app
):
    monkeypatch.setitem(app.config, "MAX_IMAGE_BYTES", 100 * 1024)
    own = tenants["daklak"]
    noise = Image.frombytes("RGB", (400, 400), random.Random(7).randbytes(400 * 400 * 3))  # incompressible
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 100 * 1024
    before = _files(images)
    response = api.post(
        f"/products/{own.product.id}/images",
        own.producer_user,
        data={"file": (io.BytesIO(buffer.getvalue()), "big.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["file"] == "The image is larger than 0.1 MB."
    web.login(own.producer_user.email)
    page = _upload(web, own.product, buffer.getvalue())
    assert page.status_code == 422 and "The image is larger than 0.1 MB." in page.get_data(as_text=True)
    assert _files(images) == before and _image_count(db) == 0


def test_a_request_above_the_server_limit_answers_413(api, tenants, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    response = api.post(
        f"/products/{tenants['daklak'].product.id}/images",
        tenants["daklak"].producer_user,
        data={"file": (io.BytesIO(b"\xff\xd8\xff" + b"0" * 60_000), "huge.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


def test_a_decompression_bomb_is_refused(web, tenants, db, images, english):
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, format="PNG")  # 144 megapixels in a few KB
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    before = _files(images)
    response = _upload(web, own.product, bomb.getvalue())
    assert response.status_code == 422
    assert "The image has too many pixels (more than 40 megapixels)." in response.get_data(as_text=True)
    assert _files(images) == before and _image_count(db) == 0


def test_api_without_a_file_names_the_field(api, tenants, english):
    response = api.post(
        f"/products/{tenants['daklak'].product.id}/images",
        tenants["daklak"].producer_user,
        data={"photo": (io.BytesIO(_picture()), "a.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"file": "Choose an image file."}


def test_files_written_before_a_failed_database_write_are_removed(tenants, db, images, monkeypatch):
    def broken_audit(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(product_service, "record_audit", broken_audit)
    before = _files(images)
    with pytest.raises(RuntimeError):
        add_product_image(tenants["daklak"].product, _picture(), actor=tenants["daklak"].producer_user)
    assert len(_files(images) - before) == 2  # written, not yet known to be orphans
    db.session.rollback()
    assert _files(images) == before


def test_photos_can_be_reordered_and_deleted(web, tenants, db, images):
    own = tenants["daklak"]
    first, second, third = (
        add_product_image(own.product, _picture(colour=(n * 60, 0, 0)), actor=own.producer_user)
        for n in range(3)
    )
    db.session.commit()
    ids = (first.id, second.id, third.id)
    web.login(own.producer_user.email)
    url = f"/manage/products/{own.product.id}"
    assert web.post_form(f"{url}/images/{ids[2]}/main", {}, form_url=url).status_code == 302
    product = db.session.get(Product, own.product.id)
    assert [image.id for image in product.images] == [ids[2], ids[0], ids[1]]
    assert product.image.id == ids[2]
    deleted = db.session.get(ProductImage, ids[0])
    deleted_files = {deleted.filename, deleted.thumbnail_filename}
    assert web.post_form(f"{url}/images/{ids[0]}/delete", {}, form_url=url).status_code == 302
    product = db.session.get(Product, own.product.id)
    assert [(image.id, image.position) for image in product.images] == [(ids[2], 0), (ids[1], 1)]
    assert not deleted_files & _files(images)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "ProductImage")
    ).all()
    assert actions == ["create", "create", "create", "update", "delete"]


def test_a_deleted_photo_keeps_its_files_until_the_deletion_is_committed(tenants, db, images):
    own = tenants["daklak"]
    image = add_product_image(own.product, _picture(), actor=own.producer_user)
    db.session.commit()
    names = {image.filename, image.thumbnail_filename}
    product_service.remove_product_image(image, actor=own.producer_user)
    assert names <= _files(images)
    db.session.rollback()
    assert names <= _files(images) and _image_count(db) == 1


def test_the_consumer_page_shows_the_main_photo(client, tenants, db):
    own = tenants["daklak"]
    image = add_product_image(own.product, _picture("PNG", (1200, 800)), actor=own.producer_user)
    own.product.ocop_group, own.product.ocop_stars, own.product.ocop_level = "food", 4, "province"
    # Stars show only while their certificate is in force.
    own.product.ocop_issued_on, own.product.ocop_expires_on = date(2025, 1, 1), date(2099, 1, 1)
    db.session.commit()
    page = client.get(f"/t/{own.batch.public_code}").get_data(as_text=True)
    assert f'src="/media/{image.thumbnail_filename}"' in page
    assert 'loading="lazy"' in page and 'width="400" height="267"' in page
    assert f'alt="{own.product.name}"' in page and "★★★★" in page


@pytest.mark.parametrize("who", ["other_producer", "other_staff", "auditor"])
def test_only_writers_of_the_product_may_add_or_remove_photos(web, api, tenants, db, images, who):
    own, other = tenants["daklak"], tenants["nghean"]
    image = add_product_image(own.product, _picture(), actor=own.producer_user)
    db.session.commit()
    user = {"other_producer": other.producer_user, "other_staff": other.staff, "auditor": own.auditor}[who]
    expected = 403 if who == "auditor" else 404
    response = api.post(
        f"/products/{own.product.id}/images",
        user,
        data={"file": (io.BytesIO(_picture()), "a.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == expected
    web.login(user.email)
    url = f"/manage/products/{own.product.id}"
    own_page = "/manage" if who == "auditor" else f"/manage/products/{other.product.id}"
    for action in (f"{url}/images", f"{url}/images/{image.id}/delete", f"{url}/images/{image.id}/main"):
        data = {"file": (io.BytesIO(_picture()), "a.png")} if action.endswith("images") else {}
        response = web.post_form(action, data, form_url=own_page, content_type="multipart/form-data")
        assert response.status_code == expected
    assert _image_count(db) == 1 and {image.filename, image.thumbnail_filename} <= _files(images)


def test_an_image_of_another_product_cannot_be_reached_through_this_one(web, make, tenants, db):
    own = tenants["daklak"]
    other_product = make.product(own.producer)
    image = add_product_image(other_product, _picture(), actor=own.producer_user)
    db.session.commit()
    web.login(own.producer_user.email)
    url = f"/manage/products/{own.product.id}"
    assert web.post_form(f"{url}/images/{image.id}/delete", {}, form_url=url).status_code == 404
    assert _image_count(db) == 1

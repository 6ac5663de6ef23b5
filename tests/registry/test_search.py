"""The product list: search without diacritics or case, filters, pages, tenant scope."""

import re

import pytest


@pytest.fixture
def english(client):
    """Pages in English, so the tests read what a user reads."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def catalogue(make, tenants):
    """A few products of Đắk Lắk and one of Nghệ An with Vietnamese names."""
    own, other = tenants["daklak"], tenants["nghean"]
    products = {
        "coffee": make.product(own.producer, name="Cà phê bột Hòa Phú", ocop_group="food", ocop_stars=4),
        "fish_sauce": make.product(
            own.producer, name="Nước mắm Nha Trang", category="Nước chấm", brand="Ông Già", is_flagship=True
        ),
        "tea": make.product(
            other.producer, name="Chè Shan tuyết", category="Đồ uống", ocop_group="beverage", ocop_stars=5
        ),
        "honey": make.product(
            make.producer(own.centre), name="Mật ong Đắk Lắk", category="Mật ong", name_en="Dak Lak honey"
        ),
    }
    return products


def _names(page: str) -> set[str]:
    return set(re.findall(r'/manage/products/\d+">([^<]+)</a>', page))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ca phe bot", {"Cà phê bột Hòa Phú"}),
        ("CÀ PHÊ bột", {"Cà phê bột Hòa Phú"}),
        ("NUOC MAM", {"Nước mắm Nha Trang"}),
        ("ong gia", {"Nước mắm Nha Trang"}),  # the brand
        ("dak lak", {"Mật ong Đắk Lắk"}),
        ("honey", {"Mật ong Đắk Lắk"}),  # the English name
        ("đồ uống", set()),  # Nghệ An's product is outside Đắk Lắk staff's scope
        ("100%", set()),  # % is a character, not a wildcard
    ],
)
def test_web_search_ignores_diacritics_and_case(web, tenants, catalogue, query, expected):
    web.login(tenants["daklak"].staff.email)
    page = web.client.get("/manage/products", query_string={"q": query}).get_data(as_text=True)
    assert _names(page) == expected


def test_ca_phe_finds_every_coffee_and_nothing_else(web, api, tenants, catalogue):
    expected = {"Cà phê bột Hòa Phú", tenants["daklak"].product.name}  # the factory names coffee
    web.login(tenants["daklak"].staff.email)
    assert _names(web.client.get("/manage/products?q=ca+phe").get_data(as_text=True)) == expected
    items = api.get("/products?q=CA%20PHE", tenants["daklak"].producer_user).get_json()["items"]
    assert {item["name"] for item in items} == expected


def test_api_search_ignores_diacritics_and_case(api, tenants, catalogue):
    ministry = tenants["ministry"]
    for query, expected in (
        ("cà PHÊ BỘT", ["Cà phê bột Hòa Phú"]),
        ("CHE SHAN", ["Chè Shan tuyết"]),
        ("do uong", ["Chè Shan tuyết"]),
    ):
        items = api.get("/products", ministry, query_string={"q": query}).get_json()["items"]
        assert [item["name"] for item in items] == expected


def test_web_filters_by_ocop_flagship_producer_and_province(web, tenants, catalogue):
    web.login(tenants["ministry"].email)

    def names(**args):
        return _names(web.client.get("/manage/products", query_string=args).get_data(as_text=True))

    assert names(ocop_stars="4") == {"Cà phê bột Hòa Phú"}
    assert names(ocop_group="beverage") == {"Chè Shan tuyết"}
    assert names(flagship="y") == {"Nước mắm Nha Trang"}
    assert names(province="40") == {"Chè Shan tuyết", tenants["nghean"].product.name}
    honey_producer = catalogue["honey"].producer_id
    assert names(producer_id=str(honey_producer)) == {"Mật ong Đắk Lắk"}
    assert names(province="66", ocop_stars="5") == set()


def test_api_filters_by_ocop_group_flagship_and_producer(api, tenants, catalogue):
    own = tenants["daklak"]

    def names(**args):
        return {
            item["name"] for item in api.get("/products", own.staff, query_string=args).get_json()["items"]
        }

    assert names(ocop_group="food") == {"Cà phê bột Hòa Phú"}
    assert names(flagship="true") == {"Nước mắm Nha Trang"}
    assert "Nước mắm Nha Trang" not in names(flagship="false")
    assert names(producer_id=own.producer.id) == {
        "Cà phê bột Hòa Phú",
        "Nước mắm Nha Trang",
        own.product.name,
    }
    assert names(producer_id=tenants["nghean"].producer.id) == set()
    assert api.get("/products?ocop_group=cars", own.staff).status_code == 422


def test_a_producer_user_finds_only_its_own_products(web, tenants, catalogue):
    web.login(tenants["daklak"].producer_user.email)
    page = web.client.get("/manage/products").get_data(as_text=True)
    assert _names(page) == {"Cà phê bột Hòa Phú", "Nước mắm Nha Trang", tenants["daklak"].product.name}


def test_the_list_has_page_links_that_keep_the_filters(web, make, tenants, english):
    own = tenants["daklak"]
    for n in range(25):
        make.product(own.producer, name=f"Hạt tiêu Chư Sê {n:02d}")
    web.login(own.staff.email)
    first = web.client.get("/manage/products", query_string={"q": "hat tieu"}).get_data(as_text=True)
    assert len(_names(first)) == 20 and "25 products" in first
    assert 'href="/manage/products?q=hat+tieu&amp;page=2"' in first
    second = web.client.get("/manage/products", query_string={"q": "hat tieu", "page": 2}).get_data(
        as_text=True
    )
    assert _names(second) == {f"Hạt tiêu Chư Sê {n:02d}" for n in range(20, 25)}
    beyond = web.client.get("/manage/products", query_string={"q": "hat tieu", "page": 9})
    assert beyond.status_code == 200 and "No product matches these filters." in beyond.get_data(as_text=True)


def test_empty_states_say_what_to_do(web, make, tenants, english):
    web.login(tenants["daklak"].staff.email)
    page = web.client.get("/manage/products", query_string={"q": "sầu riêng"}).get_data(as_text=True)
    assert "No product matches these filters." in page
    producer = make.producer(tenants["daklak"].centre)
    user = make.user("producer", producer=producer)
    web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage")})
    web.login(user.email)
    page = web.client.get("/manage/products").get_data(as_text=True)
    assert "No products yet." in page


def test_invalid_filters_are_ignored_rather_than_failing(web, tenants, catalogue):
    web.login(tenants["daklak"].staff.email)
    response = web.client.get(
        "/manage/products", query_string={"ocop_stars": "seven", "province": "99", "page": "x"}
    )
    assert response.status_code == 200
    assert "Cà phê bột Hòa Phú" in _names(response.get_data(as_text=True))

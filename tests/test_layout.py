"""The layout a newcomer relies on: where a web view lives, what its blueprint is called, where its URL comes from.

Every feature's web views are in ``traceability/<feature>/routes/``. The
package's ``__init__`` defines the feature's blueprint, named after the
package (``batches``); an area with views of its own is a module beside it,
whose blueprint is named after the module and registered on the package's,
so its endpoints read ``batches.labels.job``. The JSON API and the EPCIS
binding (blueprints ``api`` and ``epcis``, in ``traceability/api/``) are the
exception. A URL's prefix comes from its blueprint's ``url_prefix``, composed
with its parent's: no route writes ``/manage`` itself.
"""

from __future__ import annotations

import ast
import inspect
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

ROOT = Path(__file__).resolve().parents[1]
API_BLUEPRINTS = ("api", "epcis")
ROUTE_MODULES = sorted((ROOT / "traceability").glob("*/routes/*.py"))
ROUTE_PACKAGES = sorted({path.parent for path in ROUTE_MODULES})


def is_web(endpoint: str) -> bool:
    return endpoint != "static" and endpoint.split(".")[0] not in API_BLUEPRINTS


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_web_blueprint_is_defined_in_the_routes_of_the_package_it_is_named_after(app):
    blueprints = {name: bp for name, bp in app.blueprints.items() if is_web(name)}
    assert {"accounts", "registry", "batches", "batches.labels", "public", "reports"} <= set(blueprints)
    misplaced = []
    for name, blueprint in blueprints.items():
        package, *areas = name.split(".")
        expected = ".".join(["traceability", package, "routes", *areas])
        if blueprint.import_name != expected:
            misplaced.append(f"{name} is defined in {blueprint.import_name}, not {expected}")
    assert not misplaced


def test_every_web_view_is_in_the_module_of_its_blueprint(app):
    misplaced = []
    for rule in app.url_map.iter_rules():
        if not is_web(rule.endpoint):
            continue
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        blueprint = app.blueprints[rule.endpoint.rpartition(".")[0]]
        if view.__module__ != blueprint.import_name:
            misplaced.append(f"{rule.endpoint} ({rule.rule}) is written in {view.__module__}")
    assert not misplaced


def route_paths(path: Path) -> list[tuple[int, str]]:
    """The path written in each ``@….route(...)`` of a module, with its line; an f-string's parts as ``{}``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        decorator
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in ("route", "get", "post", "put", "patch", "delete")
    ] + [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_url_rule"
    ]
    found = []
    for call in calls:
        first = call.args[0] if call.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((call.lineno, first.value))
        elif isinstance(first, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in first.values)
            found.append((call.lineno, text))
    return sorted(found)


def test_the_walk_finds_every_web_url_in_a_routes_module(app):
    written = sum(len(route_paths(path)) for path in ROUTE_MODULES)
    served = sum(1 for rule in app.url_map.iter_rules() if is_web(rule.endpoint))
    assert written == served > 100


def test_no_route_writes_manage_nor_any_prefix_all_of_its_blueprint_share():
    written = [
        f"{path.relative_to(ROOT)}:{line} {text}"
        for path in ROUTE_MODULES
        for line, text in route_paths(path)
        if text.startswith("/manage")
    ]
    assert not written, "the prefix belongs in the blueprint's url_prefix"
    shared = []
    for path in ROUTE_MODULES:
        firsts = {text.lstrip("/").split("/")[0] for _line, text in route_paths(path)}
        if len(route_paths(path)) > 1 and len(firsts) == 1 and firsts != {""}:
            shared.append(f"{path.relative_to(ROOT)}: every route starts with /{firsts.pop()}")
    assert not shared, "the prefix belongs in the blueprint's url_prefix"


# (method, path) pairs of every area, as links, bookmarks and printed QR codes name them.
URLS = [
    ("GET", "/"),
    ("GET", "/01/08936045150015/10/BOT2603A"),
    ("GET", "/t/ABCDEFGHJK"),
    ("GET", "/.well-known/gs1resolver"),
    ("GET", "/media/a1b2c3.webp"),
    ("GET", "/lookup"),
    ("POST", "/lang/en"),
    ("GET", "/lang/vi/page"),
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/healthz"),
    ("GET", "/products"),
    ("GET", "/products/12"),
    ("GET", "/products/12-ca-phe-rang-xay"),
    ("GET", "/sitemap.xml"),
    ("GET", "/robots.txt"),
    ("POST", "/report/ABCDEFGHJK"),
    ("POST", "/producers/sign-up"),
    ("GET", "/producers/sign-up/received"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/account/password"),
    ("GET", "/account/tokens"),
    ("POST", "/account/tokens/3/revoke"),
    ("GET", "/manage/users"),
    ("POST", "/manage/users/new"),
    ("POST", "/manage/users/5/reset-password"),
    ("GET", "/manage/users/5/tokens"),
    ("GET", "/manage"),
    ("POST", "/manage/products/new"),
    ("GET", "/manage/products/12"),
    ("POST", "/manage/products/12/images/4/main"),
    ("POST", "/manage/locations/8/edit"),
    ("GET", "/manage/producers/me"),
    ("POST", "/manage/producers/6/suspend"),
    ("GET", "/manage/certifications/9/document"),
    ("POST", "/manage/certifications/9/verify"),
    ("POST", "/manage/gtin-disputes/2/decide"),
    ("POST", "/manage/batches/new"),
    ("POST", "/manage/batches/7"),
    ("POST", "/manage/batches/7/events/11/retract"),
    ("GET", "/manage/batches/7/chain"),
    ("GET", "/manage/batches/7/chain.xlsx"),
    ("GET", "/manage/batches/7/qr.svg"),
    ("GET", "/manage/items/70/qr.png"),
    ("POST", "/manage/batches/7/serials"),
    ("GET", "/manage/batches/7/items"),
    ("POST", "/manage/batches/7/labels"),
    ("GET", "/manage/label-jobs/1/labels.pdf"),
    ("POST", "/manage/batches/7/recall"),
    ("POST", "/manage/recalls/2"),
    ("GET", "/manage/quality"),
    ("GET", "/manage/inspections"),
    ("POST", "/manage/inspections/new"),
    ("GET", "/manage/inspections/3/photos/5"),
    ("GET", "/manage/problem-reports"),
    ("POST", "/manage/problem-reports/4/close"),
    ("GET", "/manage/worklist"),
    ("GET", "/manage/dashboard"),
    ("GET", "/manage/dashboard/scans-per-day.csv"),
    ("GET", "/manage/scans"),
    ("GET", "/manage/scans/per-province.csv"),
    ("GET", "/manage/centre-work"),
    ("POST", "/manage/centre-work/tasks/3/delete"),
    ("GET", "/manage/reports"),
    ("GET", "/manage/reports/2026/centres/1.pdf"),
    ("GET", "/manage/reports/2026/national.xlsx"),
    ("GET", "/manage/audit/42"),
    ("POST", "/api/v1/tokens"),
    ("GET", "/api/v1/batches/7/trace"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/epcis/capture"),
    ("GET", "/epcis/events"),
]


@pytest.mark.parametrize(("method", "path"), URLS)
def test_the_urls_stay_where_they_were(app, method, path):
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _values = adapter.match(path, method=method)
    except (NotFound, MethodNotAllowed, RequestRedirect) as error:
        pytest.fail(f"{method} {path}: {error!r}")
    assert endpoint != "static"


def test_the_import_contracts_cover_every_routes_package():
    contracts = {
        contract["id"]: contract
        for contract in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
            "contracts"
        ]
    }
    packages = [module_name(path / "__init__.py") for path in ROUTE_PACKAGES]
    assert {name.split(".")[1] for name in packages} >= {
        "accounts",
        "registry",
        "batches",
        "public",
        "reports",
    }
    for contract_id, key in (("views", "forbidden_modules"), ("feature-views", "modules")):
        patterns = contracts[contract_id][key]
        uncovered = [name for name in packages if not any(fnmatch(name, pattern) for pattern in patterns)]
        assert not uncovered, f"{contract_id} leaves out {uncovered}"


NAV_CURRENT = re.compile(r'<a href="(?P<href>[^"]+)" aria-current="page">')


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/manage", "/manage"),
        ("/manage/dashboard", "/manage/dashboard"),
        ("/manage/worklist", "/manage/worklist"),
        ("/manage/producers/{producer}", "/manage/producers"),
        ("/manage/products/{product}", "/manage/products"),
        ("/manage/locations/new", "/manage/locations"),
        ("/manage/certifications/new", "/manage/certifications"),
        ("/manage/recalls", "/manage/recalls"),
        ("/manage/inspections", "/manage/inspections"),
        ("/manage/problem-reports", "/manage/problem-reports"),
        ("/manage/scans", "/manage/scans"),
        ("/manage/quality", "/manage/quality"),
        ("/manage/reports", "/manage/reports"),
        ("/manage/audit", "/manage/audit"),
        ("/manage/users/new", "/manage/users"),
        ("/manage/batches/{batch}", "/manage/batches"),  # a lot is under "Lots"
        ("/manage/batches", "/manage/batches"),
    ],
)
def test_the_menu_marks_the_section_of_the_page(web, tenants, path, section):
    """The management menu marks the entry of the page's section: it follows the blueprints' names."""
    own = tenants["daklak"]
    web.login(own.admin.email)
    url = path.format(producer=own.producer.id, product=own.product.id, batch=own.batch.id)
    response = web.client.get(url)
    assert response.status_code == 200, url
    nav = response.get_data(as_text=True).split('class="manage-nav"')[1].split("</nav>")[0]
    assert [match["href"] for match in NAV_CURRENT.finditer(nav)] == ([section] if section else [])

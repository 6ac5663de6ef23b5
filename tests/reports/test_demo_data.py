"""The demo data fills every chart of a centre's dashboard and gives the yearly reports content."""

from __future__ import annotations

from sqlalchemy import func, select

from traceability.core.dates import vietnam_today
from traceability.demo.loader import DEMO_PASSWORD
from traceability.models.accounts import User
from traceability.models.batches import Batch
from traceability.models.public import Scan
from traceability.models.reports import CentreContract, ScienceTask, TechnologyProcess
from traceability.reports import dashboard
from traceability.reports.yearly import national_report


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_demo_fills_every_chart_of_the_daklak_dashboard_once(db, runner, client, web):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    staff = db.session.scalar(select(User).where(User.email == "daklak.staff@demo.vn"))
    charts = dashboard.dashboard_charts(staff, vietnam_today())
    assert [chart.key for chart in charts if chart.is_empty] == []
    by_key = {chart.key: chart for chart in charts}
    batches = by_key["batches-per-month"]
    assert all(row[1] > 0 for row in batches.rows), batches.rows  # a batch in each of the 12 months
    assert sum(1 for row in by_key["scans-per-day"].rows if row[1]) >= 25
    assert [row[1] for row in by_key["recalls"].rows] == [1, 1]
    # The centre's page shows them, and the year's report has the centre's work in it.
    web.login("daklak.staff@demo.vn", DEMO_PASSWORD)
    assert client.get("/manage/dashboard").status_code == 200
    report = national_report(2026)
    daklak = next(figures for centre, figures in report.rows if centre.province_code == "66")
    assert (
        daklak.technology_transfer_count == 1 and daklak.service_count == 2 and daklak.consulting_count == 1
    )
    assert daklak.processes_mastered == 2 and daklak.tasks_carried_out == 2
    assert report.total.products_to_market > 0 and report.total.products_revenue_vnd > 0
    assert report.total.products_from_centre_work > 0

    counts = {
        model: _count(db, model) for model in (Scan, Batch, CentreContract, TechnologyProcess, ScienceTask)
    }
    again = runner.invoke(args=["seed-demo"])
    assert "nothing added" in again.output
    db.session.expire_all()
    assert {model: _count(db, model) for model in counts} == counts

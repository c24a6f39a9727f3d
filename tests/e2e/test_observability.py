"""Issue 16: every metric deploy/'s alert rules and Grafana dashboard use is one the running system exports,
and a real Prometheus scraping the running system evaluates every one of their queries."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.ids import random_ref
from tests.support.servers import unavailable
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
OURS = ("paybus_", "payments_", "orders_", "notifier_", "gateway_", "rabbitmq_")
PROMETHEUS_OWN = {"up"}  # Prometheus sets it per target itself
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# A funnel stage's selector, and what one paid order makes of it in the running system
FUNNEL = (
    'payments_checkout_duration_seconds_count{outcome="created"}',
    "payments_webhook_verified_total",
    'payments_webhook_events_total{note="payment.succeeded"}',
    'paybus_outbox_published_total{type="order.paid"}',
    'notifier_emails_total{template="receipt",outcome="sent"}',
)


def _queries() -> dict[str, str]:
    """Every PromQL expression of the alert rules and the dashboard, by where it is used."""
    found = {}
    for group in yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]:
        for rule in group["rules"]:
            found[f"alert {rule['alert']}"] = rule["expr"]
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "paybus.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found[f"panel {panel['title']!r} {target['refId']}"] = target["expr"]
    return found


def _names(expr: str) -> set[str]:
    """Metric names in an expression: label values (quoted) removed; label names never carry our prefixes."""
    tokens = _NAME.findall(_QUOTED.sub('""', expr))
    return {t for t in tokens if t.startswith(OURS) or t in PROMETHEUS_OWN}


def _exported(text: str) -> set[str]:
    """Every sample name a /metrics page can carry, families without samples yet included."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _jobs() -> dict[str, dict]:
    return {job["job_name"]: job for job in yaml.safe_load(CONFIG.read_text())["scrape_configs"]}


def _process_urls(env: dict[str, str]) -> dict[tuple[str, str], str]:
    """(service, process) of each paybus scrape target → that process's address in the running system."""
    urls = {}
    for group in _jobs()["paybus"]["static_configs"]:
        service, process = group["labels"]["service"], group["labels"]["process"]
        port = env[f"{service.upper()}_PORT" if process == "api" else f"{service.upper()}_WORKER_PORT"]
        urls[(service, process)] = f"127.0.0.1:{port}"
    return urls


def _broker_metrics(rabbit) -> str:  # type: ignore[no-untyped-def]
    """rabbitmq_prometheus on the test broker's host (the plugin's port, 15692)."""
    return f"{urlsplit(rabbit.management_url).hostname}:15692"


def _broker_endpoints(rabbit) -> list[tuple[str, dict[str, list[str]]]]:  # type: ignore[no-untyped-def]
    """The broker's scrape jobs as deploy/ configures them, pointed at the test broker and vhost."""
    endpoints = []
    for name in ("rabbitmq", "rabbitmq-queues"):
        job = _jobs()[name]
        params = {
            **job.get("params", {}),
            **({"vhost": [rabbit.vhost]} if "vhost" in job.get("params", {}) else {}),
        }
        endpoints.append((f"http://{_broker_metrics(rabbit)}{job.get('metrics_path', '/metrics')}", params))
    return endpoints


async def _one_paid_order(system) -> None:  # type: ignore[no-untyped-def]
    email = f"{random_ref('obs')}@example.com"
    async with system.client() as client, httpx.AsyncClient(base_url=system.stripe, timeout=15) as sim:
        product = (await client.get("/api/products")).json()[0]
        order = (
            await client.post(
                "/api/orders", json={"email": email, "items": [{"product_id": product["id"], "quantity": 1}]}
            )
        ).json()
        session = (await client.post(f"/api/orders/{order['id']}/checkout")).json()
        paid = await sim.post(
            f"/_sim/checkout/sessions/{session['session_id']}/pay", data={"outcome": "succeeded"}
        )
        assert paid.status_code == 200, paid.text

        async def is_paid() -> bool:
            return (await client.get(f"/api/orders/{order['id']}")).json()["status"] == "paid"

        await eventually(is_paid, timeout=30)


async def test_every_metric_the_rules_and_the_dashboard_use_is_one_the_system_exports(system, rabbit) -> None:  # type: ignore[no-untyped-def]
    await _one_paid_order(system)
    exported: set[str] = set()
    async with httpx.AsyncClient(timeout=15) as http:
        for (service, process), address in _process_urls(system.env).items():
            response = await http.get(f"http://{address}/metrics")
            assert response.status_code == 200, (service, process)
            names = _exported(response.text)
            assert any(n.startswith((f"{service}_", "paybus_")) for n in names), (service, process)
            exported |= names
        for url, params in _broker_endpoints(rabbit):
            response = await http.get(url, params=params)
            if response.status_code != 200:
                pytest.fail(f"rabbitmq_prometheus does not answer at {url}: {response.status_code}")
            exported |= _exported(response.text)
    used = {where: _names(expr) for where, expr in _queries().items()}
    assert all(used.values()), [where for where, names in used.items() if not names]  # each names one
    missing = {where: sorted(names - exported - PROMETHEUS_OWN) for where, names in used.items()}
    assert {where: names for where, names in missing.items() if names} == {}
    assert {"paybus_outbox_lag_seconds", "rabbitmq_detailed_queue_consumers"} <= set().union(*used.values())


def _prometheus_config(system, rabbit, rules: Path) -> dict:  # type: ignore[no-untyped-def]
    config = yaml.safe_load(CONFIG.read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(rules)]
    urls = _process_urls(system.env)
    for job in config["scrape_configs"]:
        for group in job["static_configs"]:
            labels = group.get("labels", {})
            if job["job_name"] == "paybus":
                group["targets"] = [urls[(labels["service"], labels["process"])]]
            else:
                group["targets"] = [_broker_metrics(rabbit)]
        if "vhost" in job.get("params", {}):
            job["params"]["vhost"] = [rabbit.vhost]
    return config


async def _query(http: httpx.AsyncClient, expr: str) -> list[dict]:
    answer = (await http.get("/api/v1/query", params={"query": expr})).json()
    assert answer["status"] == "success", (expr, answer)
    return answer["data"]["result"]


async def test_a_real_prometheus_scraping_the_system_evaluates_every_rule_and_panel(  # type: ignore[no-untyped-def]
    system, rabbit, tmp_path
) -> None:
    if shutil.which("prometheus") is None:
        unavailable("the prometheus server is not installed (`make promtool`: Debian's prometheus package)")
    (tmp_path / "prometheus.yml").write_text(
        yaml.safe_dump(_prometheus_config(system, rabbit, DEPLOY / "prometheus" / "alerts.yml"))
    )
    port = _free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    server = await asyncio.create_subprocess_exec(
        "prometheus",
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    targets = sum(len(g["targets"]) for job in _jobs().values() for g in job["static_configs"])
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15) as http:

            async def all_up() -> bool:
                try:
                    return len(await _query(http, "up == 1")) == targets
                except httpx.TransportError:
                    return False  # still starting

            await eventually(all_up, timeout=60, interval=0.5)
            await _one_paid_order(system)

            async def funnel_seen() -> bool:  # each stage's selector matches what the system reports
                return all(await asyncio.gather(*(_query(http, f"{s} >= 1") for s in FUNNEL)))

            await eventually(funnel_seen, timeout=30, interval=0.5)
            for where, expr in _queries().items():  # every panel's and rule's query runs without error
                concrete = expr.replace("$__rate_interval", "1m").replace("$__range", "5m")
                try:
                    await _query(http, concrete)
                except AssertionError as exc:
                    pytest.fail(f"{where}: {exc}")

            async def rules_evaluated() -> list[dict] | None:
                groups = (await http.get("/api/v1/rules")).json()["data"]["groups"]
                rules = [rule for group in groups for rule in group["rules"]]
                return (
                    rules if all(rule.get("lastEvaluation", "").startswith("2") for rule in rules) else None
                )

            rules = await eventually(rules_evaluated, timeout=30, interval=0.5)
            assert {rule["name"]: rule["health"] for rule in rules} == {rule["name"]: "ok" for rule in rules}
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
        log.close()

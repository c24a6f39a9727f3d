"""deploy/'s Prometheus, alert rules and Grafana dashboard: wired into compose, valid, and complete.

promtool (Debian's `prometheus` package, installed by `make test`) checks the configuration and the
rules and runs the alert cases in deploy/prometheus/alerts.test.yml. That every metric they name is
exported by a paybus process or RabbitMQ is tests/e2e/test_observability.py's job.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import yaml

from tests.support.deploy import DEPLOY, PROCESSES, compose
from tests.support.servers import unavailable

PROMETHEUS = DEPLOY / "prometheus"
GRAFANA = DEPLOY / "grafana"
SERVICES = compose()["services"]
REQUIRED_ALERTS = {  # issue 16
    "OutboxLagHigh",
    "DeadLetterQueueNotEmpty",
    "ConsumedQueueWithoutConsumer",
    "WebhookRejectionsSpiking",
    "NoPaymentSettled",
    "SecondPaymentRefundRefused",  # issue 15
}


def _load(path):  # type: ignore[no-untyped-def]
    return yaml.safe_load(path.read_text())


def _mounts(service: str) -> dict[str, str]:
    return dict(v.rsplit(":", 2)[:2] for v in SERVICES[service]["volumes"] if v.startswith("./"))


def _rules() -> list[dict]:
    return [rule for group in _load(PROMETHEUS / "alerts.yml")["groups"] for rule in group["rules"]]


def _promtool(*args: str) -> str:
    if shutil.which("promtool") is None:
        unavailable("promtool is not installed (`make promtool`: Debian's prometheus package)")
    done = subprocess.run(["promtool", *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rabbitmq_enables_its_prometheus_plugin_beside_the_management_ui() -> None:
    assert _mounts("rabbitmq")["./rabbitmq/enabled_plugins"] == "/etc/rabbitmq/enabled_plugins"
    text = (DEPLOY / "rabbitmq" / "enabled_plugins").read_text().strip()
    assert (text[0], text[-2:]) == ("[", "].")
    assert set(text[1:-2].split(",")) == {"rabbitmq_management", "rabbitmq_prometheus"}


def test_kubernetes_rabbitmq_cluster_enables_the_prometheus_plugin() -> None:
    cluster = next(
        doc for doc in yaml.safe_load_all((DEPLOY / "k8s/base/rabbitmq.yaml").read_text())
        if doc["kind"] == "RabbitmqCluster"
    )  # fmt: skip
    assert "rabbitmq_prometheus" in cluster["spec"]["rabbitmq"]["additionalPlugins"]


def test_compose_runs_prometheus_and_grafana_with_the_files_here_on_this_machine_only() -> None:
    assert _mounts("prometheus") == {
        "./prometheus/prometheus.yml": "/etc/prometheus/prometheus.yml",
        "./prometheus/alerts.yml": "/etc/prometheus/alerts.yml",
    }
    assert _mounts("grafana") == {
        "./grafana/provisioning": "/etc/grafana/provisioning",
        "./grafana/dashboards": "/var/lib/grafana/dashboards",
    }
    for source in (*_mounts("prometheus"), *_mounts("grafana")):
        assert (DEPLOY / source).exists(), source
    assert SERVICES["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]
    assert SERVICES["grafana"]["ports"] == ["127.0.0.1:3000:3000"]
    provider = _load(GRAFANA / "provisioning/dashboards/paybus.yml")["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    [source] = _load(GRAFANA / "provisioning/datasources/prometheus.yml")["datasources"]
    assert (source["type"], source["url"]) == ("prometheus", "http://prometheus:9090")


def test_prometheus_scrapes_every_process_on_its_port_and_the_broker() -> None:
    jobs = {job["job_name"]: job for job in _load(PROMETHEUS / "prometheus.yml")["scrape_configs"]}
    targets = {
        target: (group["labels"]["service"], group["labels"]["process"])
        for group in jobs["paybus"]["static_configs"]
        for target in group["targets"]
    }
    assert targets == {f"{p.name}:{p.port}": (p.package, p.role) for p in PROCESSES}
    for name in ("rabbitmq", "rabbitmq-queues"):
        assert jobs[name]["static_configs"] == [{"targets": ["rabbitmq:15692"]}]
    assert jobs["rabbitmq-queues"]["metrics_path"] == "/metrics/detailed"
    assert set(jobs["rabbitmq-queues"]["params"]["family"]) == {
        "queue_coarse_metrics",
        "queue_consumer_count",
    }


def test_the_alerts_the_issue_asks_for_exist_with_a_severity_and_a_summary() -> None:
    rules = _rules()
    assert {rule["alert"] for rule in rules} >= REQUIRED_ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_promtool_accepts_the_configuration_and_the_rules() -> None:
    assert "SUCCESS" in _promtool("check", "config", "prometheus.yml")
    assert f"SUCCESS: {len(_rules())} rules found" in _promtool("check", "rules", "alerts.yml")


def test_each_alert_fires_when_it_should_and_not_before() -> None:
    cases = _load(PROMETHEUS / "alerts.test.yml")["tests"]
    tested = {check["alertname"] for case in cases for check in case["alert_rule_test"]}
    assert tested >= REQUIRED_ALERTS
    assert "SUCCESS" in _promtool("test", "rules", "alerts.test.yml")


def test_the_dashboard_queries_the_provisioned_prometheus_in_every_panel() -> None:
    dashboard = json.loads((GRAFANA / "dashboards/paybus.json").read_text())
    [source] = _load(GRAFANA / "provisioning/datasources/prometheus.yml")["datasources"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert dashboard["uid"] == "paybus-payments"
    assert len(panels) >= 10
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        assert [t for t in panel["targets"] if t["expr"].strip()] == panel["targets"] != [], panel["title"]
    cells = set()  # no two panels overlap on Grafana's 24-column grid
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        area = {(pos["x"] + i, pos["y"] + j) for i in range(pos["w"]) for j in range(pos["h"])}
        assert not cells & area, panel["title"]
        cells |= area

"""The kustomize base and overlays: valid objects, the same processes, image and ports as compose."""

from __future__ import annotations

from urllib.parse import urlsplit

import kubernetes_validate
import pytest

from messaging.topology import TASKS, TOPOLOGY
from tests.support.deploy import (
    ENV,
    IMAGE,
    OPERATOR_SECRETS,
    OPTIONAL,
    PROCESSES,
    base_objects,
    compose,
    dev_users,
    find,
    kustomization,
    load_all,
    password_matches,
)

KUBERNETES = "1.30.0"  # the oldest minor we support; newer ones accept these objects too
CORE = {"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1"}
BASE = base_objects()
DEV_DIR, DEV = kustomization("overlays/dev")
PROD_DIR, PROD = kustomization("overlays/prod")
PROD_TEXT = (PROD_DIR / "kustomization.yaml").read_text()
DEV_ADDED = [
    doc for name in DEV["resources"] if not name.startswith("..") for doc in load_all(DEV_DIR / name)
]


def container(deployment: dict) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def secret_literals(name: str) -> dict[str, str]:
    (generator,) = [g for g in DEV["secretGenerator"] if g["name"] == name]
    return dict(item.split("=", 1) for item in generator.get("literals", []))


@pytest.mark.parametrize(
    "obj",
    [o for o in BASE + DEV_ADDED if o["apiVersion"] in CORE],
    ids=lambda o: f"{o['kind']}/{o['metadata']['name']}",
)
def test_core_objects_validate_against_the_kubernetes_schema(obj) -> None:
    kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def test_custom_resources_have_the_shape_their_operators_expect() -> None:
    rabbit = find(BASE, "RabbitmqCluster", "paybus-rabbitmq")
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1"
    assert rabbit["spec"]["replicas"] == 3
    postgres = find(BASE, "Cluster", "paybus-db")
    assert postgres["apiVersion"] == "postgresql.cnpg.io/v1"
    assert postgres["spec"]["instances"] >= 3
    assert postgres["spec"]["bootstrap"]["initdb"]["owner"] == "paybus"  # hence Secret paybus-db-app
    for scaled in (o for o in BASE if o["kind"] == "ScaledObject"):
        assert scaled["apiVersion"] == "keda.sh/v1alpha1"
        find(BASE, "Deployment", scaled["spec"]["scaleTargetRef"]["name"])
        for trigger in scaled["spec"]["triggers"]:
            assert trigger["type"] == "rabbitmq"
            assert trigger["metadata"]["mode"] == "QueueLength"
            find(BASE, "TriggerAuthentication", trigger["authenticationRef"]["name"])


def test_keda_scales_the_worker_of_every_consuming_queue() -> None:
    scaled = {
        (o["spec"]["scaleTargetRef"]["name"], t["metadata"]["queueName"])
        for o in BASE
        if o["kind"] == "ScaledObject"
        for t in o["spec"]["triggers"]
    }
    # a periodic task's queue holds one tick a period: nothing to scale on
    busy = [q for q in TOPOLOGY.queues if not any(b.exchange == TASKS for b in q.binds)]
    assert scaled == {(f"{q.name.split('.')[0]}-worker", q.name) for q in busy}


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_each_process_has_a_deployment_like_its_compose_service(process) -> None:
    deployment = find(BASE, "Deployment", process.name)
    box = container(deployment)
    service = compose()["services"][process.name]
    assert box["image"] == service["image"]
    assert box["image"].split(":")[0] == IMAGE
    assert box["command"] == service["command"] == process.command
    assert box["resources"]["requests"]
    assert box["resources"]["limits"]
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert [p["containerPort"] for p in box["ports"]] == [process.port]
    assert box["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert box["livenessProbe"]["httpGet"]["path"] == "/healthz"
    config = find(BASE, "ConfigMap", "paybus-config")["data"]
    assert config.get(process.port_variable, str(process.port)) == str(process.port)
    if process.role == "worker":  # probed on its health port; nothing else connects to it
        assert config[process.port_variable] == str(process.port)
        return
    ports = find(BASE, "Service", process.name)["spec"]["ports"]
    assert [p["port"] for p in ports] == [process.port]
    if process.package != "gateway":  # the gateway finds it by the same name in both
        variable = f"GATEWAY_{process.package.upper()}_URL"
        upstream = f"http://{process.name}:{process.port}"
        assert compose()["services"]["gateway"]["environment"][variable] == upstream
        assert find(BASE, "ConfigMap", "paybus-config")["data"][variable] == upstream


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_every_variable_a_process_reads_is_set_from_config_or_secrets(process) -> None:
    box = container(find(BASE, "Deployment", process.name))
    (ref,) = box["envFrom"]
    config = find(BASE, "ConfigMap", ref["configMapRef"]["name"])["data"]
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in box.get("env", [])}
    assert set(process.env) - OPTIONAL <= set(config) | set(secrets)
    assert all("value" not in e for e in box.get("env", []))  # secrets by reference only
    generated = {g["name"] for g in DEV["secretGenerator"]}
    for ref in secrets.values():
        assert ref["name"] in generated | OPERATOR_SECRETS
        assert ref["name"] in OPERATOR_SECRETS or ref["name"] in PROD_TEXT, "list it for prod operators"


def test_every_deployment_has_a_disruption_budget() -> None:
    budgets = {
        o["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for o in BASE
        if o["kind"] == "PodDisruptionBudget"
    }
    assert {p.name for p in PROCESSES} <= budgets


def test_dev_overlay_credentials_log_in_against_the_dev_definitions() -> None:
    users = dev_users()
    for process in PROCESSES:
        if "AMQP_URL" in process.env:
            url = urlsplit(secret_literals(f"paybus-{process.package}-amqp")["AMQP_URL"])
            assert url.username == process.package
            assert url.hostname == "paybus-rabbitmq"
            assert password_matches(users[url.username], url.password or "")
    keda = urlsplit(secret_literals("paybus-keda-rabbitmq")["host"])
    assert keda.username == "monitoring"
    assert password_matches(users["monitoring"], keda.password or "")


def test_dev_overlay_patches_and_literals_target_what_the_base_defines() -> None:
    for patch in DEV["patches"]:
        for doc in load_all(DEV_DIR / patch["path"]):
            find(BASE, doc["kind"], doc["metadata"]["name"])
    (config,) = DEV["configMapGenerator"]
    assert config["behavior"] == "merge"
    find(BASE, "ConfigMap", config["name"])
    known = {v for names in ENV.values() for v in names}
    assert {item.split("=", 1)[0] for item in config["literals"]} <= known
    for generator in DEV["secretGenerator"]:
        for name in generator.get("files", []):
            assert (DEV_DIR / name).is_file()


def test_prod_overlay_retags_the_one_image_and_scales_real_deployments() -> None:
    assert [i["name"] for i in PROD["images"]] == [IMAGE]
    for replica in PROD["replicas"]:
        find(BASE, "Deployment", replica["name"])
    assert "secretGenerator" not in PROD  # production secrets never sit in the repository


MONITORING = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
# Who may connect to each internal API besides Prometheus (issue 13): the gateway, and payments to orders.
CALLERS = {
    "orders-api": {"gateway", "payments-api"},
    "payments-api": {"gateway"},
    "notifier-api": {"gateway"},
}


def policies_for(name: str) -> list[dict]:
    """The NetworkPolicies whose podSelector selects the pods of Deployment `name`."""
    labels = find(BASE, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
    out = []
    for policy in (o for o in BASE if o["kind"] == "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]
        matches = all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
            labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", [])
        )
        if matches:
            out.append(policy)
    return out


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_every_process_is_isolated_by_a_network_policy(process) -> None:
    (policy,) = policies_for(process.name)
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    rules = policy["spec"]["ingress"]
    if process.name == "gateway":  # the public face: its port from anywhere, nothing else
        assert rules == [{"ports": [{"port": "http"}]}]
        return
    (rule,) = rules
    sources = rule["from"]
    assert MONITORING in sources
    callers = {
        s["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for s in sources if "podSelector" in s
    }
    assert callers == CALLERS.get(process.name, set())
    assert all(set(s) in ({"podSelector"}, {"namespaceSelector"}) for s in sources)  # no "any pod anywhere"
    assert [p["port"] for p in rule["ports"]] == ["http" if process.role == "api" else "health"]


def test_payments_reaches_orders_by_its_service_name() -> None:
    config = find(BASE, "ConfigMap", "paybus-config")["data"]
    assert config["PAYMENTS_ORDERS_URL"] == "http://orders-api:8001"
    assert (
        compose()["services"]["payments-api"]["environment"]["PAYMENTS_ORDERS_URL"]
        == config["PAYMENTS_ORDERS_URL"]
    )

"""The checked-in RabbitMQ definitions are exactly a fresh `topology export`, and least-privilege."""

from __future__ import annotations

import json
import re

import pytest

from messaging import definitions
from messaging.__main__ import main, password_variable
from messaging.topology import TOPOLOGY
from tests.support.deploy import DEPLOY, load_json, password_matches

RABBITMQ = DEPLOY / "rabbitmq"
REGENERATE = "regenerate: python -m messaging topology export --vhost / [--dev-passwords] -o FILE"


def exported(tmp_path, *flags: str) -> dict:
    out = tmp_path / "definitions.json"
    assert main(["topology", "export", "--vhost", "/", *flags, "-o", str(out)]) == 0
    return json.loads(out.read_text())


def test_checked_in_definitions_equal_a_fresh_export(tmp_path) -> None:
    assert load_json(RABBITMQ / "definitions.json") == exported(tmp_path), REGENERATE


def test_checked_in_dev_definitions_equal_a_fresh_dev_export(tmp_path) -> None:
    assert load_json(RABBITMQ / "definitions.dev.json") == exported(tmp_path, "--dev-passwords"), REGENERATE


def test_kubernetes_dev_overlay_imports_the_same_dev_definitions() -> None:
    copy = load_json(DEPLOY / "k8s" / "overlays" / "dev" / "definitions.json")
    assert copy == load_json(RABBITMQ / "definitions.dev.json"), "cp deploy/rabbitmq/definitions.dev.json"


def test_production_definitions_carry_no_password() -> None:
    users = load_json(RABBITMQ / "definitions.json")["users"]
    assert {u["name"] for u in users} == {"payments", "orders", "notifier", "monitoring"}
    assert all(u["password_hash"] == "" for u in users)


def test_only_the_dev_admin_may_configure_anything() -> None:
    permissions = load_json(RABBITMQ / "definitions.dev.json")["permissions"]
    wide = {p["user"] for p in permissions if ".*" in (p["configure"], p["write"], p["read"])}
    assert wide == {"admin"}


def test_each_service_is_granted_exactly_its_own_resources() -> None:
    grants = {p["user"]: p for p in definitions.export()["permissions"]}

    def allowed(user: str, kind: str, name: str) -> bool:
        return re.fullmatch(grants[user][kind], name) is not None

    assert allowed("payments", "write", "payments.events")
    assert allowed("payments", "write", "payments.broadcast")
    assert not allowed("payments", "write", "orders.events")
    assert not allowed("payments", "write", "amq.default")
    assert allowed("orders", "read", "orders.payments")
    assert not allowed("orders", "read", "notifier.payments")
    assert allowed("orders", "configure", "orders.deadlines")
    assert not allowed("orders", "configure", "orders.events")
    assert not any(allowed(user, "write", "amq.default") for user in grants)  # issue #13
    assert allowed("notifier", "write", "notifier.internal")  # its retries and parked messages
    assert not allowed("notifier", "write", "orders.internal")
    assert allowed("orders", "write", "orders.internal")
    assert not allowed("orders", "write", "notifier.internal")
    assert not allowed("notifier", "write", "orders.events")
    assert not any(allowed(user, "configure", "orders.paymentsX") for user in grants)  # anchored


def test_topic_permissions_limit_routing_keys_to_the_publishers_events() -> None:
    topics = {(t["user"], t["exchange"]): t["write"] for t in definitions.export()["topic_permissions"]}
    assert re.fullmatch(topics[("payments", "payments.events")], "payment.refunded")
    assert not re.fullmatch(topics[("payments", "payments.events")], "order.paid")
    delay = f"delay.level.{TOPOLOGY.delay_levels - 1:02d}"
    assert re.fullmatch(topics[("orders", delay)], "0." * TOPOLOGY.delay_levels + "orders.deadlines")
    assert not re.fullmatch(topics[("orders", delay)], "0." * TOPOLOGY.delay_levels + "notifier.orders")


def test_every_queue_is_quorum_and_covered_by_one_policy() -> None:
    document = definitions.export()
    for queue in document["queues"]:
        assert queue["arguments"]["x-queue-type"] == "quorum"
        matching = [p["name"] for p in document["policies"] if re.search(p["pattern"], queue["name"])]
        assert len(matching) == 1, (queue["name"], matching)


def test_export_from_env_hashes_each_password_and_names_missing_ones(tmp_path, monkeypatch, capsys) -> None:
    users = [a.user for a in definitions.access()]
    out = tmp_path / "d.json"
    assert main(["topology", "export", "--passwords-from-env", "-o", str(out)]) == 2
    assert password_variable("monitoring") in capsys.readouterr().err
    for user in users:
        monkeypatch.setenv(password_variable(user), f"secret-{user}")
    assert main(["topology", "export", "--passwords-from-env", "-o", str(out)]) == 0
    hashes = {u["name"]: u["password_hash"] for u in json.loads(out.read_text())["users"]}
    assert all(password_matches(hashes[user], f"secret-{user}") for user in users)
    assert not password_matches(hashes["orders"], "secret-payments")


@pytest.mark.parametrize("user", ["orders", "monitoring", "admin"])
def test_dev_passwords_are_the_user_names(user) -> None:
    users = {u["name"]: u["password_hash"] for u in load_json(RABBITMQ / "definitions.dev.json")["users"]}
    assert password_matches(users[user], user)

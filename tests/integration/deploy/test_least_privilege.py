"""Each service's broker user can do its job and is refused (ACCESS_REFUSED) everything else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import aio_pika
import aiormq
import httpx
import pytest

from messaging import definitions
from messaging._wire import Meta
from messaging.broker import PublishRefused, connect
from messaging.event import Envelope
from messaging.events.orders import OrderPaid
from messaging.events.payments import PaymentSucceeded
from messaging.events.tasks import StripeReconciliationDue
from messaging.management import Management
from messaging.scheduler import period_start, tick
from messaging.topology import TOPOLOGY, delay_routing_key
from tests.support.deploy_live import import_definitions
from tests.support.waiting import eventually


def payment() -> Envelope[PaymentSucceeded]:
    return Envelope.wrap(
        PaymentSucceeded(
            order_id=uuid.uuid4(),
            stripe_event_id=f"evt_{uuid.uuid4().hex}",
            checkout_session_id=f"cs_{uuid.uuid4().hex}",
            amount=1250,
            currency="eur",
        )
    )


def order_paid() -> Envelope[OrderPaid]:
    return Envelope.wrap(
        OrderPaid(order_id=uuid.uuid4(), status="paid", email="a@example.com", total=1250, currency="eur")
    )


def meta(kind: str = "payment.succeeded") -> Meta:
    now = datetime.now(UTC)
    return {"message_id": uuid.uuid4().hex, "type": kind, "correlation_id": "c", "timestamp": now}


async def collect(broker, queue: str, into: list) -> None:  # type: ignore[no-untyped-def]
    """Consume a service's own queue the way its worker does (declare with its arguments, then consume)."""

    async def on_message(msg, deps) -> None:  # type: ignore[no-untyped-def]
        into.append(msg)

    model = PaymentSucceeded if queue.endswith("payments") else OrderPaid
    consumer = broker.consumer(TOPOLOGY.queue(queue), {model: on_message}, None)
    await consumer.start()
    return consumer


async def test_payments_publishes_its_events_and_the_consumers_receive_them(connect_as) -> None:
    payments, orders, notifier = [await connect_as(r) for r in ("payments", "orders", "notifier")]
    at_orders: list = []
    at_notifier: list = []
    consumers = [
        await collect(orders, "orders.payments", at_orders),
        await collect(notifier, "notifier.payments", at_notifier),
    ]
    sent = payment()
    await payments.publish(sent)  # payments.events and payments.broadcast, both confirmed
    await eventually(lambda: at_orders and at_notifier)
    assert at_orders[0].id == at_notifier[0].id == sent.id
    for consumer in consumers:
        await consumer.stop()


async def test_payments_is_refused_other_exchanges_routing_keys_and_queues(connect_as, secured) -> None:
    with pytest.raises(PublishRefused):
        await (await connect_as("payments")).publish(order_paid())
    with pytest.raises(PublishRefused):  # topic permission: only payment.* keys it owns
        await (await connect_as("payments")).publish_raw(
            secured.prefix + "payments.events", "order.paid", b"{}", meta("order.paid")
        )
    queue = secured.prefix + "orders.payments"
    with pytest.raises(PublishRefused):  # no default exchange: it owns no queue
        await (await connect_as("payments")).publish_raw("", queue, b"{}", meta())
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await collect(await connect_as("payments"), "orders.payments", [])


async def test_orders_publishes_order_events_and_schedules_its_deadlines(connect_as, secured) -> None:
    orders = await connect_as("orders")
    await orders.publish(order_paid())
    await orders.send(order_paid(), TOPOLOGY.queue("orders.deadlines"), delay=3600)
    retry = secured.prefix + "orders.payments.retry.1"
    await orders.publish_raw(secured.prefix + "orders.internal", retry, b"{}", meta())  # its retries
    async with secured.rabbit.management() as management:  # the management API's counts lag a little
        waiting = await eventually(lambda: _depth(management, secured.vhost, "delay.level.", secured.prefix))
    assert waiting == 1


async def _depth(management, vhost: str, stem: str, prefix: str) -> int:  # type: ignore[no-untyped-def]
    queues = await management.queues(vhost)
    return sum(int(q.get("messages", 0)) for q in queues if q["name"].startswith(prefix + stem))


async def test_orders_is_refused_payment_events_other_queues_and_other_schedules(connect_as, secured) -> None:
    with pytest.raises(PublishRefused):
        await (await connect_as("orders")).publish(payment())
    levels = TOPOLOGY.delay_levels
    with pytest.raises(PublishRefused):  # delaying into a queue it does not own
        await (await connect_as("orders")).publish_raw(
            secured.prefix + f"delay.level.{levels - 1:02d}",
            delay_routing_key(levels, 5, secured.prefix + "notifier.orders"),
            b"{}",
            meta(),
        )
    with pytest.raises(PublishRefused):  # the lower delay levels are the broker's, not the service's
        await (await connect_as("orders")).publish_raw(
            secured.prefix + "delay.level.00", "0.orders.deadlines", b"{}", meta()
        )
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await collect(await connect_as("orders"), "notifier.payments", [])


async def test_payments_sends_its_ticks_to_its_task_queue_and_no_other_service_can(connect_as) -> None:
    payments = await connect_as("payments")
    got: list = []

    async def on_tick(msg, deps) -> None:  # type: ignore[no-untyped-def]
        got.append(msg)

    queue = TOPOLOGY.queue(StripeReconciliationDue.routing_key)
    consumer = payments.consumer(queue, {StripeReconciliationDue: on_tick}, None)
    await consumer.start()
    due = tick(StripeReconciliationDue, period_start(datetime.now(UTC), 300), 300)
    await payments.publish(due)  # paybus.tasks, routing key = the task's name
    await eventually(lambda: got)
    await consumer.stop()
    assert got[0].id == due.id
    for other in ("orders", "notifier"):
        with pytest.raises(PublishRefused):
            await (await connect_as(other)).publish(due)


async def test_notifier_consumes_its_queues_and_is_refused_publishing(connect_as, secured) -> None:
    notifier = await connect_as("notifier")
    consumer = await collect(notifier, "notifier.orders", [])
    await consumer.stop()
    parking = secured.prefix + "notifier.orders.dlq"
    await notifier.publish_raw(secured.prefix + "notifier.internal", parking, b"{}", meta())
    with pytest.raises(PublishRefused):
        await (await connect_as("notifier")).publish(order_paid())
    with pytest.raises(PublishRefused):
        await (await connect_as("notifier")).publish(payment())
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await collect(await connect_as("notifier"), "orders.deadlines", [])


@pytest.mark.parametrize("role", ["payments", "orders", "notifier", "monitoring"])
async def test_service_users_cannot_declare_topology(connect_as, role) -> None:
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await (await connect_as(role)).declare()


@pytest.mark.parametrize("role", ["orders", "notifier"])
async def test_consumers_cannot_create_a_queue_of_their_own(connect_as, secured, role) -> None:
    broker = await connect_as(role)
    channel = await broker.connection.channel()
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await channel.declare_queue(f"{secured.prefix}{role}.sneaky", durable=True)


async def test_monitoring_sees_queues_but_cannot_read_or_write_messages(connect_as, secured) -> None:
    user = secured.user("monitoring")
    async with Management(secured.rabbit.management_url, user, secured.passwords[user]) as mgmt:
        names = {q["name"] for q in await mgmt.queues(secured.vhost)}
        assert f"{secured.prefix}orders.payments.dlq" in names
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await mgmt.create_vhost(f"{secured.vhost}-not-allowed")
        assert refused.value.response.status_code in (401, 403)
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await collect(await connect_as("monitoring"), "orders.payments", [])
    with pytest.raises(PublishRefused):
        await (await connect_as("monitoring")).publish(payment())


async def test_policies_apply_to_the_queues_they_guard(secured) -> None:
    names = [f"{secured.prefix}{n}" for n in ("orders.payments", "orders.payments.dlq", "delay.level.03")]
    async with secured.rabbit.management() as management:

        async def with_policies():  # the management API shows a policy once the queue's stats refresh
            queues = [await management.queue(secured.vhost, name) for name in names]
            return queues if all("policy" in q for q in queues) else None

        main, dlq, delay = await eventually(with_policies, timeout=30, interval=0.5)
    assert main["policy"] == f"{secured.prefix}orders.payments"
    assert main["effective_policy_definition"]["dead-letter-strategy"] == "at-least-once"
    assert dlq["policy"] == f"{secured.prefix}dlq"
    assert delay["policy"] == f"{secured.prefix}delay"
    assert main["arguments"]["x-queue-type"] == "quorum"


async def test_a_user_exported_without_password_cannot_log_in(secured) -> None:
    prefix = f"n{uuid.uuid4().hex[:6]}."
    document = definitions.export(vhost=secured.vhost, prefix=prefix)  # as checked in: no passwords
    await import_definitions(
        secured.rabbit, {"users": document["users"], "permissions": document["permissions"]}
    )
    try:
        url = secured.url("notifier").replace(secured.user("notifier"), prefix + "notifier", 1)
        with pytest.raises(aio_pika.exceptions.ProbableAuthenticationError):
            await aio_pika.connect(url)  # with the password the real user has: a blank hash matches none
    finally:
        async with secured.rabbit.management() as management:
            for entry in document["users"]:
                await management.delete_user(entry["name"])


@pytest.mark.parametrize("role", ["payments", "orders", "notifier", "monitoring"])
async def test_no_service_user_may_write_to_the_default_exchange(connect_as, secured, role) -> None:
    """Issue #13: with write on amq.default (then needed for retries) the notifier's user put a forged
    payment.succeeded straight into orders.payments and an order was marked paid."""
    for queue in ("orders.payments", "notifier.orders", "notifier.payments", "orders.deadlines"):
        with pytest.raises(PublishRefused):
            await (await connect_as(role)).publish_raw("", secured.prefix + queue, b"{}", meta())


@pytest.mark.parametrize(
    ("role", "other"), [("notifier", "orders"), ("orders", "notifier"), ("payments", "orders")]
)
async def test_no_service_user_may_write_to_another_services_queues(connect_as, secured, role, other) -> None:
    for queue in (f"{other}.payments", f"{other}.payments.retry.1", f"{other}.payments.dlq"):
        with pytest.raises(PublishRefused):
            await (await connect_as(role)).publish_raw(
                secured.prefix + f"{other}.internal", secured.prefix + queue, b"{}", meta()
            )


async def test_the_broker_refuses_a_user_id_that_is_not_the_publishers_own(secured) -> None:
    connection = await aio_pika.connect(secured.url("payments"))
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(secured.prefix + "payments.broadcast", ensure=False)
        forged = aio_pika.Message(b"{}", type="payment.succeeded", user_id=secured.user("orders"))
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
            await exchange.publish(forged, routing_key="")
    finally:
        await connection.close()


async def test_a_type_a_queue_does_not_carry_is_refused_and_parked_not_mailed(connect_as, secured) -> None:
    """Issue #13: an order.created sent to payments.broadcast (payments may write there with any type)
    became a shop e-mail to an address the sender chose."""
    notifier, payments = await connect_as("notifier"), await connect_as("payments")
    handled: list = []
    consumer = await collect(notifier, "notifier.payments", handled)
    created = {"message_id": uuid.uuid4().hex, "type": "order.created", "correlation_id": "c"}
    await payments.publish_raw(secured.prefix + "payments.broadcast", "order.created", b"{}", created)
    await eventually(lambda: notifier.stats.refused == 1)
    await consumer.stop()
    assert handled == []
    assert notifier.stats.dead_lettered == 1


async def test_a_carried_type_from_a_user_that_does_not_publish_it_is_refused(connect_as, secured) -> None:
    """RabbitMQ vouches for user_id; the consumer checks it is the service that owns the event type."""
    notifier = await connect_as("notifier")
    handled: list = []
    consumer = await collect(notifier, "notifier.payments", handled)
    async with secured.rabbit.management() as management:
        await management.set_permissions(secured.vhost, "guest")  # an administrator, not the payments user
    admin = await connect(
        secured.rabbit.url.rsplit("/", 1)[0] + "/" + quote(secured.vhost, safe=""),
        name="test:admin",
        prefix=secured.prefix,
    )
    try:
        await admin.publish(payment())  # user_id guest
        await eventually(lambda: notifier.stats.refused == 1)
    finally:
        await admin.close()
        await consumer.stop()
    assert handled == []

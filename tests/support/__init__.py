"""Importable test helpers, one place per thing; conftest.py files hold only fixtures and hooks.

servers     the RabbitMQ vhost and PostgreSQL databases a run works in (Rabbit, Postgres, REQUIRE)
waiting     eventually(): poll a condition, bounded, no fixed sleeps
ids         random_ref(): unique, readable ids for test data
events      builders of the messages the services consume, as their producers send them
orders, payments, notifier, gateway     in-memory fakes of each service's own ports (unit tier)
http_services   fake orders, payments and notifier HTTP apps speaking the internal contract
html, openapi   checks of served pages and OpenAPI documents
deploy      readers of deploy/ (compose, images, definitions, Kubernetes)
<room>_live     what a room's integration tests share on the real servers: orders_live, payments_live,
                notifier_live, gateway_live, outbox_live, messaging_live, deploy_live, mailbox_live,
                stripe_sim_live (and stripe_shapes, the SDK's resource types)
system      the whole system as `make run` starts it, for tests/e2e
tracing, otlp   traces recorded in process, and an OTLP/HTTP receiver for the processes of tests/e2e

Every tier imports from here; nothing outside tests/unit imports tests.unit, and nothing imports a
conftest (tests/unit/test_tests_layout.py checks both).
"""

"""Importable test helpers, one place per thing: conftest.py files hold only fixtures and hooks.

servers    the RabbitMQ vhost and PostgreSQL databases a run works in (Rabbit, Postgres, REQUIRE)
waiting    eventually(): poll a condition, bounded, no fixed sleeps
ids        random_ref(): unique, readable ids for test data
events     builders of the messages the services consume, as their producers send them
orders, payments, notifier, gateway    in-memory fakes of each service's own ports
http_services   fake orders, payments and notifier HTTP apps speaking the internal contract
html, openapi   checks of served pages and OpenAPI documents
deploy     readers of deploy/ (compose, images, definitions, Kubernetes)

Unit, integration, e2e and chaos tests all import from here; nothing outside tests/unit imports tests.unit.
"""

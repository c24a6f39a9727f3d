"""Fixtures for the notifier tests: a real mailbox, the worker on a test topology, a publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from devmailbox.testing import RunningMailbox, running_mailbox
from notifier.worker import open_worker
from runtime.testing import RunningWorker, start_worker
from tests.support.notifier_live import (
    TEST_TOPOLOGY,
    Stand,
    StandFactory,
    settings_for,
)


@pytest_asyncio.fixture
async def mailbox() -> AsyncIterator[RunningMailbox]:
    async with running_mailbox() as box:
        yield box


@pytest_asyncio.fixture
async def start_stand(rabbit, postgres, prefix, make_broker) -> AsyncIterator[StandFactory]:
    started: list[RunningWorker] = []

    async def start(smtp_port: int, **overrides: Any) -> Stand:
        settings = settings_for(rabbit, postgres, smtp_port, **overrides)
        worker = await start_worker(open_worker(settings, topology=TEST_TOPOLOGY, prefix=prefix))
        started.append(worker)
        return Stand(worker, await make_broker(TEST_TOPOLOGY, prefix), prefix)

    yield start
    for worker in started:
        if not worker.task.done():
            await worker.stopped()


@pytest_asyncio.fixture
async def stand(start_stand: StandFactory, mailbox: RunningMailbox) -> Stand:
    return await start_stand(mailbox.smtp_port)

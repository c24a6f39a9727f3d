"""Runs every bench part in one process; one JSON line per figure, then a table."""

from __future__ import annotations

import sys

from benchmarks import messaging_bench, notifier_bench, outbox_bench, pipeline_bench
from benchmarks._support import RUNS, Figure, scratch_vhost, table
from messaging import runtime


async def main() -> int:
    figures: list[Figure] = notifier_bench.run(RUNS)
    async with scratch_vhost() as url:
        figures += await messaging_bench.run(url, RUNS)
        figures += await outbox_bench.run(url, RUNS)
        figures += await pipeline_bench.run(url)
    for figure in figures:
        print(figure.line(), flush=True)
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(runtime.run(main()))

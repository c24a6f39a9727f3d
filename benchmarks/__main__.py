"""Runs the bench parts in one process; one JSON line per figure, then a table.

`python -m benchmarks` runs every part; `python -m benchmarks pipeline` (or notifier, messaging,
outbox, several of them) only those.
"""

from __future__ import annotations

import sys

from benchmarks import messaging_bench, notifier_bench, outbox_bench, pipeline_bench
from benchmarks._support import RUNS, Figure, scratch_vhost, table
from messaging import runtime

PARTS = ("notifier", "messaging", "outbox", "pipeline")


async def main(parts: list[str]) -> int:
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        print(f"unknown bench part(s) {', '.join(unknown)}; the parts: {', '.join(PARTS)}", file=sys.stderr)
        return 2
    chosen = parts or list(PARTS)
    figures: list[Figure] = notifier_bench.run(RUNS) if "notifier" in chosen else []
    async with scratch_vhost() as url:
        if "messaging" in chosen:
            figures += await messaging_bench.run(url, RUNS)
        if "outbox" in chosen:
            figures += await outbox_bench.run(url, RUNS)
        if "pipeline" in chosen:
            figures += await pipeline_bench.run(url)
    for figure in figures:
        print(figure.line(), flush=True)
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(runtime.run(main(sys.argv[1:])))

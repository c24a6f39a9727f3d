"""Where each process's CPU goes under the bench's load: py-spy samples, summarised as text.

`BENCH_PROFILE=<folder>` makes the pipeline bench run `py-spy record` on every Python process of the
system during each throughput round (only while payments flow), then write `<folder>/<process>.txt`:
samples by package, the hottest functions by self time (on top of the stack) and by inclusive time
(anywhere in it). Raw samples stay in a temporary folder (its path is printed). py-spy samples from
outside the process (root), 100 times a second by default, without stopping it (`--nonblocking`:
stopping it made py-spy count threads idle in a queue as running). A sample counts a thread the
kernel has running or runnable: on a loaded machine, runnable includes waiting for a core, which
weighs most on the frame a thread wakes in (the event loop's poll, `Runner.run` under uvloop).
Profiled runs cost CPU of their own: the bench's CPU figures come from runs without it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path

RATE = os.environ.get("BENCH_PROFILE_RATE", "100")
_FRAME = re.compile(r"^(?P<fn>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("BENCH_PROFILE needs py-spy (a dev dependency: make install)")
    return found


class Profiler:
    def __init__(self, folder: Path, procs: dict[str, int]) -> None:
        self.folder = folder
        self.procs = procs
        self.raw = Path(tempfile.mkdtemp(prefix="bench-profile-"))
        self._running: list[asyncio.subprocess.Process] = []
        self._round = 0

    async def start(self) -> None:
        self._round += 1
        exe = _py_spy()
        for name, pid in self.procs.items():
            out = self.raw / f"{name}.{self._round}.txt"
            argv = (
                exe,
                "record",
                "--pid",
                str(pid),
                "--rate",
                RATE,
                "--function",
                "--nonblocking",
                "--full-filenames",
                "--format",
                "raw",
            )
            self._running.append(
                await asyncio.create_subprocess_exec(
                    *argv,
                    "-o",
                    str(out),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )

    async def stop(self) -> None:
        for p in self._running:
            p.send_signal(signal.SIGINT)  # py-spy writes its samples on Ctrl-C
        await asyncio.gather(*(p.wait() for p in self._running))
        self._running = []

    def summarise(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name in self.procs:
            stacks: Counter[tuple[str, ...]] = Counter()
            for raw in sorted(self.raw.glob(f"{name}.*.txt")):
                for line in raw.read_text().splitlines():
                    stack, _, count = line.rpartition(" ")
                    if stack and count.isdigit():
                        stacks[tuple(stack.split(";"))] += int(count)
            (self.folder / f"{name}.txt").write_text(summary(name, stacks, self._round))
        print(f"profiles: summaries in {self.folder}, py-spy's raw samples in {self.raw}", file=sys.stderr)


def _where(frame: str) -> tuple[str, str]:
    """(function with its file, package) of one py-spy frame `fn (path:line)`, paths in full
    (`--full-filenames`): what follows site-packages, the stdlib folder or the repository's
    services/<name>/, libs/<name>/ or tools/<name>/ names the file, and its first part the package."""
    m = _FRAME.match(frame)
    if m is None:
        return frame, "?"
    path = m["path"]
    for marker in ("/site-packages/", "/dist-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3":
                path = path.split("/", 1)[1]  # past "11/"
            break
    else:
        for marker in ("/services/", "/libs/", "/tools/"):
            if marker in path:
                path = path.split(marker, 1)[1].split("/", 1)[1]  # past the project folder
                break
    if path.startswith("opentelemetry/"):  # one namespace, many distributions: name which part
        parts = path.split("/")
        package = "/".join(parts[:3] if parts[1] == "instrumentation" else parts[:2])
    else:
        package = path.split("/", 1)[0].removesuffix(".py")
    return f"{m['fn']} ({path})", package


def summary(name: str, stacks: Counter[tuple[str, ...]], rounds: int, top: int = 15) -> str:
    total = sum(stacks.values())
    lines = [
        f"{name}: {total} samples of a running or runnable thread "
        f"(py-spy --rate {RATE} --function --nonblocking --full-filenames, {rounds} throughput rounds)"
    ]
    if not total:
        return "\n".join(lines) + "\n"
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    package_inclusive: Counter[str] = Counter()
    for stack, count in stacks.items():
        where = [_where(f) for f in stack]
        # py-spy writes a stack root first; its last frame is the one running
        own[where[-1][0]] += count
        packages[where[-1][1]] += count
        for fn in {fn for fn, _ in where}:
            inclusive[fn] += count
        for package in {package for _, package in where}:
            package_inclusive[package] += count

    def block(title: str, counts: Counter[str], rows: int = top) -> list[str]:
        shares = [f"{100 * c / total:6.1f}%  {what}" for what, c in counts.most_common(rows)]
        return ["", title, *shares]

    lines += block(
        "self time by package (the running frame's package; C code counts to its caller)", packages
    )
    lines += block("inclusive time by package (a frame of it anywhere on the stack)", package_inclusive)
    lines += block("self time by function", own, 2 * top)
    # the first rows are a thread's or the event loop's root frames and the middleware chain
    lines += block("inclusive time by function (anywhere on the stack)", inclusive, 4 * top)
    return "\n".join(lines) + "\n"

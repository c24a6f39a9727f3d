"""Chaos room: RabbitMQ nodes of our own, clustered, on free ports; stopped by node name or pid file."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from chaos._proc import ServerError, as_user, free_port, give, kill_pid, pid_alive, pid_from, run

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
RABBIT_HOME = "/var/lib/rabbitmq"  # the Erlang cookie the CLI tools and every node share
RABBIT_USER = "rabbitmq"


def rabbit_available() -> str | None:
    """None when this machine can run nodes of our own, else why not."""
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        return f"no {RABBIT_BIN}/rabbitmq-server"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is missing"
    return None


@dataclass
class RabbitNode:
    """One RabbitMQ node: its own config, node name, AMQP, management and distribution ports."""

    name: str  # short name; the node is <name>@localhost
    workdir: Path
    amqp_port: int = field(default_factory=free_port)
    management_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)

    @property
    def node(self) -> str:
        return f"{self.name}@localhost"

    @property
    def pid_file(self) -> Path:
        return self.workdir / "rabbit.pid"

    @property
    def log_file(self) -> Path:
        return self.workdir / "log" / f"{self.node}.log"

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}"

    def amqp_url(self, vhost: str = "/", user: str = "guest", password: str = "guest") -> str:
        return f"amqp://{user}:{password}@127.0.0.1:{self.amqp_port}/{quote(vhost, safe='')}"

    def env(self) -> dict[str, str]:
        w = self.workdir
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin:/usr/sbin:/sbin"),
            "HOME": RABBIT_HOME if os.geteuid() == 0 else os.environ.get("HOME", ""),
            "LANG": "C.UTF-8",
            "RABBITMQ_CONF_ENV_FILE": str(w / "rabbitmq-env.conf"),  # not the system's (it names rabbit@)
            "RABBITMQ_CONFIG_FILE": str(w / "rabbitmq.conf"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(w / "mnesia"),
            "RABBITMQ_LOG_BASE": str(w / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(w / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def _configure(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {self.management_port}\n"
            "loopback_users = none\n"
            "cluster_partition_handling = pause_minority\n"
            "collect_statistics_interval = 1000\n"
        )
        (self.workdir / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.workdir / "rabbitmq-env.conf").write_text("")
        for path in (self.workdir, *self.workdir.iterdir()):
            give(path, RABBIT_USER)

    def ctl(self, *args: str, timeout: float = 120) -> str:
        """`rabbitmqctl -n <this node> args...` as the rabbitmq user."""
        argv = as_user(RABBIT_USER, [str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, *args])
        return run(argv, self.env(), timeout=timeout)

    def start(self, timeout: float = 120) -> None:
        """Start the node detached (again after kill() or stop(keep=True)) and wait until it runs."""
        if not (self.workdir / "rabbitmq.conf").exists():
            self._configure()
        self.pid_file.unlink(missing_ok=True)
        argv = as_user(RABBIT_USER, [str(RABBIT_BIN / "rabbitmq-server"), "-detached"])
        run(argv, self.env(), timeout=timeout)
        self.wait_running(timeout)

    def wait_running(self, timeout: float = 120) -> None:
        self.ctl("wait", "--timeout", str(int(timeout)), str(self.pid_file), timeout=timeout + 10)

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self, timeout: float = 120) -> None:
        self.ctl("start_app", timeout=timeout)
        self.ctl("await_startup", "--timeout", str(int(timeout)), timeout=timeout + 10)

    def join(self, first: RabbitNode) -> None:
        self.stop_app()
        self.ctl("join_cluster", first.node)
        self.start_app()

    @property
    def pid(self) -> int | None:
        return pid_from(self.pid_file)

    def is_running(self) -> bool:
        return pid_alive(self.pid)

    def kill(self) -> None:
        """SIGKILL this node's Erlang VM (the pid in its pid file), as a crash would."""
        pid = self.pid
        if pid is None:
            raise ServerError(f"{self.node} has no pid file: not started?")
        kill_pid(pid, self.node)

    def stop(self, keep: bool = False) -> None:
        """Stop the whole node (SIGKILL if it will not), then remove its directory unless `keep`."""
        pid = self.pid
        if pid is not None and pid_alive(pid):
            try:
                self.ctl("stop", str(self.pid_file), timeout=60)
            except (ServerError, subprocess.TimeoutExpired):
                kill_pid(pid, self.node)
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class RabbitCluster:
    """`size` nodes clustered with the first; node names unique per run (`chaos<run>n<i>@localhost`)."""

    size: int
    workdir: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    nodes: list[RabbitNode] = field(init=False)

    def __post_init__(self) -> None:
        self.nodes = [
            RabbitNode(f"chaos{self.run_id}n{i + 1}", self.workdir / f"n{i + 1}") for i in range(self.size)
        ]

    @property
    def first(self) -> RabbitNode:
        return self.nodes[0]

    def amqp_url(self, vhost: str = "/") -> str:
        return self.first.amqp_url(vhost)

    def amqp_urls(self, vhost: str = "/") -> list[str]:
        return [n.amqp_url(vhost) for n in self.nodes]

    @property
    def management_url(self) -> str:
        return self.first.management_url

    def node(self, name: str) -> RabbitNode:
        """The node by its full name (`x@localhost`, as the management API reports it)."""
        return next(n for n in self.nodes if n.node == name)

    def start(self, timeout: float = 180) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)  # the rabbitmq user must reach its node's directory
        for node in self.nodes:
            node._configure()
        procs = [
            subprocess.Popen(
                as_user(RABBIT_USER, [str(RABBIT_BIN / "rabbitmq-server"), "-detached"]),
                env=node.env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for node in self.nodes
        ]
        for proc in procs:
            proc.wait(timeout=timeout)
        for node in self.nodes:
            node.wait_running(timeout)
        for node in self.nodes[1:]:
            node.join(self.first)

    def running_nodes(self) -> list[str]:
        """Names of the nodes that the first live node sees running ([] when none answers)."""
        for node in self.nodes:
            if node.is_running():
                with contextlib.suppress(ServerError, subprocess.TimeoutExpired):
                    status = json.loads(node.ctl("cluster_status", "--formatter", "json", timeout=30))
                    return sorted(status.get("running_nodes", []))
        return []

    def wait_clustered(self, timeout: float = 120) -> None:
        """Poll until every node runs and sees all the others."""
        deadline = time.monotonic() + timeout
        want = sorted(n.node for n in self.nodes)
        while (seen := self.running_nodes()) != want:
            if time.monotonic() > deadline:
                raise ServerError(f"cluster not whole after {timeout:.0f} s: {seen} of {want}")
            time.sleep(0.5)

    def restart(self) -> None:
        """Every node stop_app at once, then start_app at once (a whole-cluster broker restart that
        keeps the Erlang VMs; started side by side, the nodes find each other as they come up)."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.stop_app(), self.nodes))
            list(pool.map(lambda node: node.start_app(), self.nodes))

    def stop(self) -> None:
        """Stop every node at once (each by its own name; the cluster is thrown away), then remove it all."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.stop(keep=True), self.nodes))
        shutil.rmtree(self.workdir, ignore_errors=True)

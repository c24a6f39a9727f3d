"""Operator CLI: `dlq list|show|replay|purge QUEUE`, `topology export|declare`, `asyncapi`."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

from messaging import asyncapi, definitions, dlq, runtime
from messaging.broker import Broker, connect
from messaging.management import Management
from messaging.topology import TOPOLOGY

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m messaging", description=__doc__)
    parser.add_argument(
        "--url", default=os.environ.get("AMQP_URL", DEFAULT_AMQP_URL), help="broker (AMQP_URL)"
    )
    parser.add_argument("--prefix", default="", help="topology name prefix (tests)")
    parser.add_argument(
        "--management-url",
        default=os.environ.get("RABBITMQ_MANAGEMENT_URL"),
        help="management API (default: AMQP_URL's host, port 15672)",
    )
    groups = parser.add_subparsers(dest="group", required=True)
    dlq_cmd = groups.add_parser("dlq", help="dead-letter queues")
    dlq_cmd.add_argument("action", choices=["list", "show", "replay", "purge"])
    dlq_cmd.add_argument("queue", nargs="?", help="the consuming queue (or its .dlq)")
    dlq_cmd.add_argument("--limit", type=int, default=None)
    topo = groups.add_parser("topology", help="exchanges, queues and bindings")
    topo.add_argument("action", choices=["export", "declare"])
    topo.add_argument("-o", "--output", help="file for export (default: stdout)")
    topo.add_argument("--vhost", default=None, help="vhost in the export (default: AMQP_URL's)")
    passwords = topo.add_mutually_exclusive_group()
    passwords.add_argument(
        "--dev-passwords",
        action="store_true",
        help="dev only: every user's password is its name, reproducible hashes, plus user admin/admin",
    )
    passwords.add_argument(
        "--passwords-from-env",
        action="store_true",
        help="password of user U from RABBITMQ_PASSWORD_<U> (upper case, '_' for other characters)",
    )
    topo.add_argument("--admin", default=None, help="add an administrator user of this name")
    spec = groups.add_parser("asyncapi", help="AsyncAPI 3.0 document of the public events")
    spec.add_argument("-o", "--output", help="write it here (refused if it breaks the file's consumers)")
    spec.add_argument("--check", metavar="FILE", help="fail if FILE is stale or the code breaks it")
    spec.add_argument("--allow-breaking", action="store_true", help="write even a breaking change")
    return parser


def _vhost(url: str) -> str:
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


async def _run_dlq(args: argparse.Namespace, broker: Broker) -> int:
    if args.action == "list":
        async with Management.for_amqp_url(args.url, args.management_url) as management:
            for name, depth in (await dlq.depths(broker, management, _vhost(args.url), args.prefix)).items():
                print(f"{depth:8d}  {name}")
        return 0
    if not args.queue:
        print(f"dlq {args.action} needs a QUEUE", file=sys.stderr)
        return 2
    if args.action == "show":
        for parked in await dlq.show(broker, args.queue, args.limit or 20):
            print(json.dumps(parked.as_json(), indent=2))
    elif args.action == "replay":
        print(f"replayed {await dlq.replay(broker, args.queue, args.limit)} messages")
    else:
        print(f"purged {await dlq.purge(broker, args.queue)} messages")
    return 0


def password_variable(user: str) -> str:
    return "RABBITMQ_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", user.upper())


def _export(args: argparse.Namespace) -> int:
    admin = "admin" if args.dev_passwords and not args.admin else args.admin
    users = [a.user for a in definitions.access(TOPOLOGY, args.prefix)] + ([admin] if admin else [])
    passwords: dict[str, str] = {}
    if args.dev_passwords:
        passwords = {user: user for user in users}
    elif args.passwords_from_env:
        missing = [password_variable(u) for u in users if not os.environ.get(password_variable(u))]
        if missing:
            print(f"set {', '.join(missing)}", file=sys.stderr)
            return 2
        passwords = {user: os.environ[password_variable(user)] for user in users}
    document = definitions.export(
        TOPOLOGY,
        vhost=args.vhost or _vhost(args.url),
        prefix=args.prefix,
        passwords=passwords,
        fixed_salt=args.dev_passwords,
        admin=admin,
    )
    return _write(json.dumps(document, indent=2, sort_keys=True) + "\n", args.output)


def _write(text: str, output: str | None) -> int:
    """To the file named, else to standard output."""
    if output:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


async def _main(args: argparse.Namespace) -> int:
    broker = await connect(args.url, name="messaging-cli", prefix=args.prefix)
    try:
        if args.group == "topology":
            await broker.declare()
            print("topology declared")
            return 0
        return await _run_dlq(args, broker)
    finally:
        await broker.close()


def _asyncapi(args: argparse.Namespace) -> int:
    """Print, write or check the document; a breaking change is refused unless allowed."""
    new = asyncapi.document()
    target = args.check or args.output
    old = _read_json(target) if target else None
    problems = asyncapi.breaking(old, new) if old is not None else []
    for problem in problems:
        print(f"breaking: {problem}", file=sys.stderr)
    if args.check:
        if old != new:
            print(f"{args.check} is stale: run python -m messaging asyncapi -o {args.check}", file=sys.stderr)
            return 1
        return 0
    if problems and not args.allow_breaking:
        print("refused: publish the change under a new .v2 routing key instead", file=sys.stderr)
        return 1
    return _write(json.dumps(new, indent=2) + "\n", args.output)


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as source:
            found: dict[str, Any] = json.load(source)
            return found
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.group == "topology" and args.action == "export":
        return _export(args)
    if args.group == "asyncapi":
        return _asyncapi(args)
    return runtime.run(_main(args))


if __name__ == "__main__":
    raise SystemExit(main())

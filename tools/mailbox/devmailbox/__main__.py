"""devmailbox: `python -m devmailbox` runs the SMTP server and web page until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvloop

from devmailbox.server import Mailbox
from devmailbox.settings import Settings

log = logging.getLogger("devmailbox")


async def serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Mailbox(settings) as box:
        host = settings.smtp_host
        log.info("SMTP on %s:%d, web page on %s", host, box.smtp_port, box.web_url)
        await stop.wait()
        log.info("stopping")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    uvloop.run(serve(Settings()))


if __name__ == "__main__":
    main()

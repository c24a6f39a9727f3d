"""`python -m devmailbox` serves SMTP and HTTP until SIGINT or SIGTERM, then exits cleanly."""

import asyncio
import os
import re
import signal
import sys

import httpx

READY = re.compile(rb"SMTP on 127\.0\.0\.1:(\d+), web page on (http://127\.0\.0\.1:\d+)")


async def read_until_ready(stream: asyncio.StreamReader) -> re.Match[bytes]:
    async with asyncio.timeout(15):
        while line := await stream.readline():
            if match := READY.search(line):
                return match
    raise AssertionError("devmailbox exited before it was ready")


async def test_module_runs_both_servers_until_sigterm_or_sigint(tmp_path):
    # Both at once: each process spends most of its time importing FastAPI.
    await asyncio.gather(
        run_until_signalled(tmp_path, signal.SIGTERM), run_until_signalled(tmp_path, signal.SIGINT)
    )


async def run_until_signalled(tmp_path, sig: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"MAILBOX_DIR", "SMTP_HOST", "MAILBOX_HOST"}}
    env |= {"SMTP_PORT": "0", "MAILBOX_PORT": "0"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devmailbox", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        ready = await read_until_ready(process.stderr)
        async with httpx.AsyncClient(base_url=ready[2].decode()) as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
        reader, writer = await asyncio.open_connection("127.0.0.1", int(ready[1]))
        assert (await reader.readline()).startswith(b"220 ")
        writer.close()
        await writer.wait_closed()

        process.send_signal(sig)
        async with asyncio.timeout(10):
            rest = await process.stderr.read()
            assert await process.wait() == 0
        assert b"stopping" in rest
        assert b"Traceback" not in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

"""The reference for the acknowledgement figures: a bare aiohttp server answering 200 at once,
in a process of its own like the bot. Prints its port on stdout.

    python -m bench.echo
"""

from __future__ import annotations

import asyncio

from aiohttp import web


async def ok(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text="")


async def main() -> None:
    app = web.Application()
    app.router.add_post("/slack/events", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())

"""The reference for the Discord acknowledgement figures: a bare aiohttp client, in a process of its
own like the bot, that connects to the (emulated) gateway and answers every INTERACTION_CREATE
with the same deferral the bot sends (`POST /interactions/{id}/{token}/callback`, type 5), and
nothing else. Prints "ready" on stdout once the session is ready.

    python -m bench.discord_echo GATEWAY_URL API_BASE TOKEN
"""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp

GUILDS = 1 << 0


async def main(gateway: str, api: str, token: str) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.ws_connect(f"{gateway}?v=10&encoding=json", max_msg_size=0) as ws,
    ):
        tasks: set[asyncio.Task[None]] = set()

        async def defer(interaction: dict[str, object]) -> None:
            url = f"{api}/interactions/{interaction['id']}/{interaction['token']}/callback"
            async with http.post(url, json={"type": 5, "data": {"flags": 0}}) as resp:
                await resp.read()

        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            if frame["op"] == 10:
                identify = {
                    "token": token,
                    "intents": GUILDS,
                    "properties": {"os": "linux", "browser": "bench", "device": "bench"},
                }
                await ws.send_str(json.dumps({"op": 2, "d": identify}))
            elif frame["op"] == 0 and frame["t"] == "READY":
                print("ready", flush=True)
            elif frame["op"] == 0 and frame["t"] == "INTERACTION_CREATE":
                task = asyncio.create_task(defer(frame["d"]))
                tasks.add(task)
                task.add_done_callback(tasks.discard)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))

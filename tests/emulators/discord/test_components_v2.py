"""Components V2 and user installs, as Discord documents them: what the emulator refuses with 400
"Invalid Form Body" (50035), and what a user-installed app can and can't do where the bot is not.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import aiohttp
import discord
import pytest

from tests.emulators.discord import APPLICATION_ID, HUMAN_USER_ID, TEXT_CHANNEL_ID, DiscordEmulator
from tests.emulators.discord.conftest import make_bot, png_bytes

V2 = 1 << 15


async def rest(
    emu: DiscordEmulator, method: str, path: str, body: Any = None, *, auth: bool = True
) -> tuple[int, Any]:
    """A raw call (for payloads discord.py would not build)."""
    headers = {"Authorization": f"Bot {emu.token}"} if auth else {}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, emu.api_base + path, json=body, headers=headers) as resp,
    ):
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, data


def form_error(body: Any, *path: str) -> str:
    """The `code` of the first error at `path` of a 50035 body."""
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body", body
    node = body["errors"]
    for part in path:
        node = node[part]
    return str(node["_errors"][0]["code"])


def layout(*items: discord.ui.Item[Any]) -> discord.ui.LayoutView:
    view = discord.ui.LayoutView()
    for item in items:
        view.add_item(item)
    return view


async def test_a_v2_message_with_content_is_refused(emu: DiscordEmulator) -> None:
    async with emu.run_client(make_bot()) as bot:
        channel = bot.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send("hello", view=layout(discord.ui.TextDisplay("hi")))
        assert (refused.value.status, refused.value.code) == (400, 50035)
        answer = emu.last_request("POST", rf"^/channels/{TEXT_CHANNEL_ID}/messages$").response
        assert form_error(answer, "content") == "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2"

        with pytest.raises(discord.HTTPException):
            await channel.send(embed=discord.Embed(title="x"), view=layout(discord.ui.TextDisplay("hi")))
        answer = emu.last_request("POST", rf"^/channels/{TEXT_CHANNEL_ID}/messages$").response
        assert form_error(answer, "embeds") == "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2"

        sent = await channel.send(view=layout(discord.ui.Container(discord.ui.TextDisplay("hi <@1>"))))
        stored = emu.messages[str(sent.id)]
        assert stored["flags"] & V2 and stored["content"] == "" and emu.text_of(stored) == "hi <@1>"


async def test_more_than_40_components_are_refused(emu: DiscordEmulator) -> None:
    # discord.py stops at 40 itself, so the body is built by hand: 1 container + 40 texts = 41.
    texts = [{"type": 10, "content": f"line {i}"} for i in range(40)]
    body = {"flags": V2, "components": [{"type": 17, "components": texts}]}
    async with emu.run_client(make_bot()):
        status, answer = await rest(emu, "POST", f"/channels/{TEXT_CHANNEL_ID}/messages", body)
        assert status == 400
        assert form_error(answer, "components") == "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED"
        body["components"][0]["components"] = texts[:39]  # 40 in all: fine
        status, _ = await rest(emu, "POST", f"/channels/{TEXT_CHANNEL_ID}/messages", body)
        assert status == 200
        # Without the flag the same layout is not a legacy message either.
        status, answer = await rest(
            emu, "POST", f"/channels/{TEXT_CHANNEL_ID}/messages", {"components": body["components"]}
        )
        assert status == 400 and form_error(answer, "components", "0", "type") == "UNION_TYPE_CHOICES"


async def test_text_and_gallery_limits(emu: DiscordEmulator) -> None:
    async with emu.run_client(make_bot()):
        path = f"/channels/{TEXT_CHANNEL_ID}/messages"
        long = {
            "flags": V2,
            "components": [{"type": 10, "content": "x" * 2001}, {"type": 10, "content": "y" * 2000}],
        }
        status, answer = await rest(emu, "POST", path, long)
        assert status == 400 and form_error(answer, "components") == "BASE_TYPE_MAX_LENGTH"
        items = [{"media": {"url": f"https://example.com/{i}.png"}} for i in range(11)]
        status, answer = await rest(
            emu, "POST", path, {"flags": V2, "components": [{"type": 12, "items": items}]}
        )
        assert status == 400 and form_error(answer, "components", "0", "items") == "BASE_TYPE_BAD_LENGTH"
        button = {"type": 2, "style": 1, "custom_id": "b", "label": "z" * 81}
        row = {"type": 1, "components": [button]}
        status, answer = await rest(emu, "POST", path, {"flags": V2, "components": [row]})
        assert status == 400 and form_error(answer, "components", "0", "components", "0", "label") == (
            "BASE_TYPE_MAX_LENGTH"
        )


async def test_attachment_references_must_name_a_file_of_the_message(emu: DiscordEmulator) -> None:
    async with emu.run_client(make_bot()) as bot:
        channel = bot.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel)
        gallery = discord.ui.MediaGallery(discord.MediaGalleryItem("attachment://missing.png"))
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send(view=layout(gallery), file=discord.File(io.BytesIO(png_bytes()), "there.png"))
        assert refused.value.code == 50035
        answer = emu.last_request("POST", rf"^/channels/{TEXT_CHANNEL_ID}/messages$").response
        code = form_error(answer, "components", "0", "items", "0", "media", "url")
        assert code == "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND"

        image = discord.File(io.BytesIO(png_bytes()), "there.png")
        sent = await channel.send(
            view=layout(discord.ui.MediaGallery(discord.MediaGalleryItem(image))), file=image
        )
        stored = emu.messages[str(sent.id)]
        [attachment] = stored["attachments"]
        media = stored["components"][0]["items"][0]["media"]
        assert media["url"] == attachment["url"] and media["attachment_id"] == attachment["id"]
        # An edit may point at a file the message keeps.
        again = discord.ui.MediaGallery(discord.MediaGalleryItem("attachment://there.png"))
        await sent.edit(view=layout(discord.ui.TextDisplay("still here"), again))
        assert emu.text_of(emu.messages[str(sent.id)]) == "still here"


def _gallery_of(*names: str) -> discord.ui.MediaGallery[Any]:
    return discord.ui.MediaGallery(*(discord.MediaGalleryItem(f"attachment://{n}") for n in names))


def _file(name: str) -> discord.File:
    return discord.File(io.BytesIO(png_bytes()), name)


async def test_an_edit_keeps_only_the_attachments_it_lists(emu: DiscordEmulator) -> None:
    """API v10: an edit's `attachments` is every file the message has after it, kept ones by id
    and new ones by upload index; a gallery may name only those."""
    async with emu.run_client(make_bot()) as bot:
        channel = bot.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send(view=layout(_gallery_of("1.png")), file=_file("1.png"))
        # Growing: the file it has, listed by id, and a new one.
        grown = await sent.edit(
            view=layout(_gallery_of("1.png", "2.png")), attachments=[*sent.attachments, _file("2.png")]
        )
        stored = emu.messages[str(sent.id)]
        assert [a["filename"] for a in stored["attachments"]] == ["1.png", "2.png"]
        assert [i["media"]["attachment_id"] for i in stored["components"][0]["items"]] == [
            a["id"] for a in stored["attachments"]
        ]
        assert [seen.gallery for seen in emu.message_log if seen.message_id == str(sent.id)] == [1, 2]

        # A new file without the old ones listed: the old ones go, so a gallery naming them is refused.
        with pytest.raises(discord.HTTPException) as refused:
            await grown.edit(view=layout(_gallery_of("1.png", "3.png")), attachments=[_file("3.png")])
        answer = emu.last_request("PATCH", rf"/messages/{sent.id}$").response
        code = form_error(answer, "components", "0", "items", "0", "media", "url")
        assert refused.value.code == 50035 and code == "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND"
        # Dropping a file the kept gallery shows (no new components) is refused too.
        with pytest.raises(discord.HTTPException):
            await grown.edit(attachments=grown.attachments[:1])
        assert len(emu.messages[str(sent.id)]["attachments"]) == 2  # nothing changed

        # Not listed, not kept: a file no component shows may go.
        text_only = await grown.edit(view=layout(discord.ui.TextDisplay("gone")), attachments=[])
        assert text_only.attachments == [] and emu.messages[str(sent.id)]["attachments"] == []


async def test_an_unknown_attachment_id_is_refused(emu: DiscordEmulator) -> None:
    async with emu.run_client(make_bot()) as bot:
        channel = bot.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send(view=layout(_gallery_of("1.png")), file=_file("1.png"))
        other = await channel.send(view=layout(_gallery_of("x.png")), file=_file("x.png"))
        path = f"/channels/{TEXT_CHANNEL_ID}/messages/{sent.id}"
        # Another message's file is not this one's to keep.
        status, answer = await rest(
            emu, "PATCH", path, {"attachments": [{"id": str(other.attachments[0].id)}]}
        )
        assert status == 400 and form_error(answer, "attachments", "0", "id") == "ATTACHMENT_NOT_FOUND"
        status, answer = await rest(emu, "PATCH", path, {"attachments": [{"id": "0"}]})  # no upload 0
        assert status == 400 and form_error(answer, "attachments", "0", "id") == "ATTACHMENT_NOT_FOUND"
        assert len(emu.messages[str(sent.id)]["attachments"]) == 1


async def test_the_v2_flag_stays_and_a_message_turned_v2_resets_its_content(emu: DiscordEmulator) -> None:
    async with emu.run_client(make_bot()) as bot:
        channel = bot.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel)
        plain = await channel.send("working…")
        with pytest.raises(discord.HTTPException):  # the content is still there
            await plain.edit(view=layout(discord.ui.TextDisplay("done")))
        await plain.edit(content=None, view=layout(discord.ui.TextDisplay("done")))
        stored = emu.messages[str(plain.id)]
        assert stored["flags"] & V2 and emu.text_of(stored) == "done"
        path = f"/channels/{TEXT_CHANNEL_ID}/messages/{plain.id}"
        status, answer = await rest(emu, "PATCH", path, {"flags": 0, "content": "back to text"})
        assert status == 400 and form_error(answer, "flags") == "MESSAGE_CANNOT_REMOVE_COMPONENTS_V2_FLAG"
        status, answer = await rest(emu, "PATCH", path, {"content": "text again"})
        assert (
            status == 400
            and form_error(answer, "content") == "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2"
        )


async def test_a_server_without_the_bot_is_reached_only_through_interactions(emu: DiscordEmulator) -> None:
    elsewhere = emu.add_foreign_guild()
    channel_id = elsewhere["text_channel_id"]
    seen: list[str] = []
    bot = make_bot()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    async with emu.run_client(bot):
        assert bot.get_guild(int(elsewhere["id"])) is None  # not in READY, no GUILD_CREATE
        await emu.send_message("nobody sees this", channel_id=channel_id)
        for method, path, body in (
            ("GET", f"/channels/{channel_id}", None),
            ("POST", f"/channels/{channel_id}/messages", {"content": "hi"}),
        ):
            status, answer = await rest(emu, method, path, body)
            assert (status, answer["code"]) == (403, 50001)

        emu.strict_commands = False
        inter = await emu.send_slash_command("imagine", {"prompt": "x"}, channel_id=channel_id)
        payload = inter.payload
        assert payload["authorizing_integration_owners"] == {"1": HUMAN_USER_ID}
        assert payload["context"] == 0 and payload["guild_id"] == elsewhere["id"]
        # @everyone's, limited to what a response can use: files, links, external emojis (not
        # @everyone mentions, which @everyone may not use there).
        assert int(payload["app_permissions"]) == (1 << 15) | (1 << 14) | (1 << 18)
        await rest(emu, "POST", f"/interactions/{inter.id}/{inter.token}/callback", {"type": 5}, auth=False)
        hook = f"/webhooks/{APPLICATION_ID}/{inter.token}"
        body = {"flags": V2, "components": [{"type": 10, "content": "answered"}]}
        status, _ = await rest(emu, "PATCH", f"{hook}/messages/@original", body, auth=False)
        assert status == 200
        for n in range(5):
            status, _ = await rest(emu, "POST", f"{hook}?wait=true", body, auth=False)
            assert status == 200, n
        status, answer = await rest(emu, "POST", f"{hook}?wait=true", body, auth=False)
        assert status == 400 and "follow-up" in answer["message"]  # the sixth
        assert seen == []  # no gateway events from there


async def test_group_dm_interactions_are_a_user_install_in_a_private_channel(emu: DiscordEmulator) -> None:
    bob = emu.add_user("bob")
    group = emu.group_dm([HUMAN_USER_ID, bob["id"]])
    async with emu.run_client(make_bot()):
        emu.strict_commands = False
        inter = await emu.send_slash_command("imagine", {"prompt": "x"}, channel_id=group["id"])
        payload = inter.payload
        assert (
            payload["context"] == 2 and "guild_id" not in payload and payload["user"]["id"] == HUMAN_USER_ID
        )
        assert payload["channel"]["type"] == 3 and payload["authorizing_integration_owners"] == {
            "1": HUMAN_USER_ID
        }
        status, answer = await rest(emu, "POST", f"/channels/{group['id']}/messages", {"content": "hi"})
        assert (status, answer["code"]) == (403, 50001)


async def test_an_interaction_token_lasts_its_lifetime() -> None:
    async with DiscordEmulator(interaction_token_lifetime=0.3) as emu, emu.run_client(make_bot()):
        emu.strict_commands = False
        inter = await emu.send_slash_command("imagine", {"prompt": "x"})
        await rest(emu, "POST", f"/interactions/{inter.id}/{inter.token}/callback", {"type": 5}, auth=False)
        await asyncio.sleep(0.4)
        status, answer = await rest(
            emu,
            "POST",
            f"/webhooks/{APPLICATION_ID}/{inter.token}?wait=true",
            {"content": "late"},
            auth=False,
        )
        assert (status, answer["code"]) == (401, 50027)  # past its 15 minutes: not a 404

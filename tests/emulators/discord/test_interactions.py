"""Interactions end to end with discord.py: slash commands, components, modals, context menus."""

from __future__ import annotations

import io

import discord
import discord.gateway
import discord.http
import pytest
from discord import app_commands

from tests.emulators.discord import APPLICATION_ID, GUILD_ID, TEXT_CHANNEL_ID, DiscordEmulator
from tests.emulators.discord.conftest import GUILD, eventually, make_bot, png_bytes

# ----------------------------------------------------------------------------------------------
# slash command with attachment -> defer -> followup with file -> thread
# ----------------------------------------------------------------------------------------------


async def test_slash_command_attachment_followup_and_thread(emu: DiscordEmulator) -> None:
    bot = make_bot()
    seen: dict[str, object] = {}
    out_png = png_bytes((0, 255, 0), (5, 4))

    @bot.tree.command(description="Analyze an image", guild=GUILD)
    @app_commands.describe(prompt="What to do", image="Input image")
    async def analyze(interaction: discord.Interaction, prompt: str, image: discord.Attachment) -> None:
        await interaction.response.defer(thinking=True)
        data = await image.read()
        seen["input"] = data
        seen["filesize_limit"] = interaction.filesize_limit
        msg = await interaction.followup.send(
            f"{prompt}: {len(data)} bytes", file=discord.File(io.BytesIO(out_png), "out.png"), wait=True
        )
        # discord.py quirk: a followup WebhookMessage has no guild (its channel is a guild-less
        # PartialMessageable), so msg.create_thread() raises ValueError; go through the channel.
        assert isinstance(interaction.channel, discord.TextChannel)
        thread = await interaction.channel.create_thread(name="analysis", message=msg)
        await thread.send("details in thread")
        seen["thread"] = thread

    async with emu.run_client(bot):
        await bot.tree.sync(guild=GUILD)
        src = png_bytes((255, 0, 0))
        att = emu.add_cdn_file("my input.png", src)
        assert att["filename"] == "my_input.png" and att["content_type"] == "image/png"
        assert (att["width"], att["height"]) == (8, 6)

        inter = await emu.send_slash_command("analyze", {"prompt": "describe", "image": att})
        assert inter.data["guild_id"] == GUILD_ID  # guild-scoped command
        assert await inter.wait_ack() == 5
        thread_msg = await emu.wait_for_message(lambda m: m["content"] == "details in thread")

        assert seen["input"] == src
        assert seen["filesize_limit"] == emu.upload_limit
        assert emu.find_requests("GET", r"^/cdn/attachments/")[0].status == 200

        callback = emu.last_request("POST", rf"^/interactions/{inter.id}/")
        assert callback.json == {"type": 5} and callback.query["with_response"] == "1"
        assert "authorization" not in callback.headers  # headers are case-insensitive

        followup = emu.last_request("POST", rf"^/webhooks/{APPLICATION_ID}/{inter.token}$")
        assert followup.files == [("out.png", "application/octet-stream", out_png)]
        assert followup.file_fields == ["files[0]"]
        assert followup.payload_json["content"] == f"describe: {len(src)} bytes"
        assert followup.payload_json["attachments"] == [{"id": 0, "filename": "out.png"}]
        assert followup.query["wait"] == "1"

        # the first followup after a thinking-defer replaces the loading message (same id)
        [result] = inter.followups
        assert result["id"] == inter.original_message_id
        assert not result["flags"] & 128
        assert result["type"] == 20 and result["interaction_metadata"]["name"] == "analyze"
        att_out = result["attachments"][0]
        assert att_out["url"].startswith(emu.cdn_base) and att_out["content_type"] == "image/png"
        assert (att_out["width"], att_out["height"]) == (5, 4)
        assert emu.cdn_bytes(att_out["url"]) == out_png

        # thread started from the message shares its id; THREAD_CREATE reached the client
        thread_ch = emu.channels[result["id"]]
        assert thread_ch["type"] == 11 and thread_ch["parent_id"] == TEXT_CHANNEL_ID
        assert thread_msg["channel_id"] == result["id"]
        await eventually(lambda: "thread" in seen)
        thread = seen["thread"]
        assert isinstance(thread, discord.Thread) and thread.id == int(result["id"])
        await eventually(lambda: bot.get_channel(int(result["id"])) is not None)
        assert emu.gateway_sent[-1]["t"] in {"MESSAGE_CREATE", "THREAD_CREATE"}
        assert any(f.get("t") == "THREAD_CREATE" and f["d"]["newly_created"] for f in emu.gateway_sent)


async def test_slash_command_validation_is_strict(emu: DiscordEmulator) -> None:
    bot = make_bot()

    @bot.tree.command(description="Generate")
    @app_commands.describe(prompt="Prompt", steps="Steps")
    async def generate(
        interaction: discord.Interaction, prompt: str, steps: app_commands.Range[int, 1, 50] = 20
    ) -> None:
        await interaction.response.send_message(f"{prompt}/{steps}")

    async with emu.run_client(bot):
        with pytest.raises(LookupError, match="not been synced"):
            await emu.send_slash_command("generate", {"prompt": "x"})
        await bot.tree.sync()
        with pytest.raises(ValueError, match="missing required"):
            await emu.send_slash_command("generate", {})
        with pytest.raises(ValueError, match="unknown option"):
            await emu.send_slash_command("generate", {"prompt": "x", "seed": 1})
        with pytest.raises(ValueError, match="max_value"):
            await emu.send_slash_command("generate", {"prompt": "x", "steps": 51})
        inter = await emu.send_slash_command("generate", {"prompt": "cat", "steps": 7})
        assert await inter.wait_ack() == 4
        assert inter.original is not None and inter.original["content"] == "cat/7"


# ----------------------------------------------------------------------------------------------
# components, modals, context menus
# ----------------------------------------------------------------------------------------------


class ResultView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Regenerate", custom_id="seedbot:regen", style=discord.ButtonStyle.primary)
    async def regen(self, interaction: discord.Interaction, button: discord.ui.Button[ResultView]) -> None:
        await interaction.response.edit_message(content="regenerating…", view=None)

    @discord.ui.button(label="Info", custom_id="seedbot:info")
    async def info(self, interaction: discord.Interaction, button: discord.ui.Button[ResultView]) -> None:
        await interaction.response.send_message("only you can see this", ephemeral=True)


async def test_persistent_button_press(emu: DiscordEmulator) -> None:
    bot = make_bot()

    async def setup_hook() -> None:
        bot.add_view(ResultView())  # persistent: not bound to a message id

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    # a message left behind by a previous run of the bot
    old = emu.add_message("old result", components=ResultView().to_components())

    async with emu.run_client(bot):
        info = await emu.send_component("seedbot:info")
        assert info.payload["message"]["id"] == old["id"]
        assert await info.wait_ack() == 4
        assert info.original is not None and info.original["flags"] & 64
        assert not any(f.get("t") == "MESSAGE_CREATE" and "only you" in str(f["d"]) for f in emu.gateway_sent)

        regen = await emu.send_component("seedbot:regen", message_id=old["id"])
        assert await regen.wait_ack() == 7
        assert emu.messages[old["id"]]["content"] == "regenerating…"
        assert emu.messages[old["id"]]["components"] == []
        with pytest.raises(LookupError):
            await emu.send_component("seedbot:regen", message_id=old["id"])  # button is gone


class PromptModal(discord.ui.Modal, title="Refine prompt"):
    prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
        label="Prompt", custom_id="prompt", max_length=200
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"refined: {self.prompt.value}", ephemeral=True)


async def test_modal_submit(emu: DiscordEmulator) -> None:
    bot = make_bot()

    @bot.tree.command(description="Refine a prompt")
    async def refine(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(PromptModal())

    async with emu.run_client(bot):
        await bot.tree.sync()
        inter = await emu.send_slash_command("refine")
        assert await inter.wait_ack() == 9
        assert inter.modal is not None and inter.modal["title"] == "Refine prompt"
        with pytest.raises(ValueError, match="no inputs"):
            await inter.submit_modal({"nope": "x"})
        with pytest.raises(ValueError, match="max_length"):
            await inter.submit_modal({"prompt": "x" * 201})
        submit = await inter.submit_modal({"prompt": "a watercolor cat"})
        assert submit.type == 5 and submit.data["custom_id"] == inter.modal["custom_id"]
        assert await submit.wait_ack() == 4
        assert submit.original is not None
        assert submit.original["content"] == "refined: a watercolor cat" and submit.original["flags"] & 64


async def test_modal_with_labels_and_text_displays_and_its_limits(emu: DiscordEmulator) -> None:
    bot = make_bot()
    refused: list[discord.HTTPException] = []

    def modal(label: str, shown: str) -> discord.ui.Modal:
        form = discord.ui.Modal(title="Edit", custom_id="edit-modal")
        form.add_item(discord.ui.TextDisplay(shown))
        change = discord.ui.TextInput(custom_id="change", max_length=300)  # named by its Label
        form.add_item(discord.ui.Label(text=label, description="what should change", component=change))
        return form

    @bot.tree.command(description="Edit")
    async def edit(interaction: discord.Interaction, label: str, shown: str) -> None:
        try:
            await interaction.response.send_modal(modal(label, shown))
        except discord.HTTPException as exc:
            refused.append(exc)

    async with emu.run_client(bot):
        await bot.tree.sync()
        inter = await emu.send_slash_command("edit", {"label": "Change", "shown": ">>> a red fox"})
        assert await inter.wait_ack() == 9
        assert inter.modal is not None
        assert [c["type"] for c in inter.modal["components"]] == [10, 18]
        label = inter.modal["components"][1]
        assert label["description"] == "what should change" and not label["component"].get("label")
        submit = await inter.submit_modal({"change": "at night"})
        [answered] = [c for c in submit.data["components"] if c["type"] == 18]
        assert answered["component"]["value"] == "at night"

        too_long = await emu.send_slash_command("edit", {"label": "x" * 46, "shown": "a fox"})
        await eventually(lambda: bool(refused))
        assert refused[0].status == 400 and "label" in refused[0].text
        assert too_long.response_type is None  # nothing opened
        await emu.send_slash_command("edit", {"label": "Change", "shown": "x" * 4001})
        await eventually(lambda: len(refused) == 2)
        assert "4000" in refused[1].text


async def test_message_context_menu_with_file_response(emu: DiscordEmulator) -> None:
    bot = make_bot()

    @bot.tree.context_menu(name="Upscale")
    async def upscale(interaction: discord.Interaction, message: discord.Message) -> None:
        data = await message.attachments[0].read()
        await interaction.response.send_message(
            f"upscaled {message.id}", file=discord.File(io.BytesIO(data), "up.png")
        )

    async with emu.run_client(bot):
        await bot.tree.sync()
        src = png_bytes((9, 9, 9))
        user_msg = await emu.send_message("look", attachments=[("cat.png", src)])
        inter = await emu.send_message_command("Upscale", user_msg["id"])
        assert inter.data["resolved"]["messages"][user_msg["id"]]["content"] == "look"
        assert await inter.wait_ack() == 4
        callback = emu.last_request("POST", rf"^/interactions/{inter.id}/")
        assert callback.files == [("up.png", "application/octet-stream", src)]
        assert callback.payload_json["type"] == 4
        original = inter.original
        assert original is not None and original["content"] == f"upscaled {user_msg['id']}"
        assert original["type"] == 23 and emu.cdn_bytes(original["attachments"][0]["url"]) == src


async def test_dm_slash_command_and_guild_only_rejected(emu: DiscordEmulator) -> None:
    bot = make_bot()
    seen: dict[str, object] = {}

    @bot.tree.command(description="Who am I")
    async def whoami(interaction: discord.Interaction) -> None:
        seen["user"] = interaction.user
        seen["guild"] = interaction.guild
        await interaction.response.send_message(f"you are {interaction.user.name}")

    @bot.tree.command(description="Guild only")
    @app_commands.guild_only()
    async def admin(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok")

    async with emu.run_client(bot):
        await bot.tree.sync()
        inter = await emu.send_slash_command("whoami", dm=True)
        assert "user" in inter.payload and "member" not in inter.payload
        assert await inter.wait_ack() == 4
        assert type(seen["user"]) is discord.User and seen["guild"] is None
        assert inter.original is not None and inter.original["content"] == "you are alice"
        with pytest.raises(ValueError, match=r"not available in bot DMs|dm_permission"):
            await emu.send_slash_command("admin", dm=True)

"""`seedbot style` and `seedbot cast`: the operator's side of style presets and the saved cast,
audited like the other admin changes."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from bot import i18n, messages
from tests.app.cli.helpers import friendly_one_liner, seedbot

WS = "discord:123456"


def png_file(path: Path) -> Path:
    Image.new("RGB", (64, 48), (200, 40, 40)).save(path, format="PNG")
    return path


def test_a_styles_words_after_its_options_are_its_words_and_none_is_said_the_shells_way(
    tmp_path: Path,
) -> None:
    """`add neon --aspect 16:9 neon lights` was "unrecognized arguments: neon lights", and
    `add neon` alone was told the chat's syntax (`admin style add NAME WORDS [--ar W:H]`)."""
    added = seedbot(tmp_path, "style", WS, "add", "neon", "--aspect", "16:9", "neon", "lights")
    assert added.returncode == 0 and '`neon` (this server): adds "neon lights"' in added.stdout, added.stderr
    bare = friendly_one_liner(seedbot(tmp_path, "style", WS, "add", "plain"))
    assert f"seedbot style {WS} add plain WORDS... [--aspect W:H]" in bare


def test_style_commands_add_change_hide_remove_and_are_audited(tmp_path: Path) -> None:
    added = seedbot(tmp_path, "style", WS, "add", "noir", "moody", "black", "and", "white", "--aspect", "3:2")
    assert added.returncode == 0, added.stderr
    assert (
        "Style 'noir' added" in added.stdout
        and '`noir` (this server): adds "moody black and white"' in added.stdout
    )
    assert "--ar 3:2" in added.stdout
    changed = seedbot(tmp_path, "style", WS, "change", "noir", "--model", "4.5")
    assert changed.returncode == 0 and "--ar 3:2 --model 4.5" in changed.stdout, changed.stdout
    hidden = seedbot(tmp_path, "style", WS, "hide", "anime")
    assert "`anime` (built-in, hidden here)" in hidden.stdout, hidden.stdout
    bad = friendly_one_liner(seedbot(tmp_path, "style", WS, "add", "x", "soft", "--aspect", "99:1"))
    assert "doesn't work for aspect" in bad  # the option it was given as (it named the chat flag --ar)
    missing = friendly_one_liner(seedbot(tmp_path, "style", WS, "remove", "nope"))
    with i18n.use_place("server"):  # WS is a Discord server: said in Discord's words
        assert missing == f"seedbot: {messages.style_not_found('nope')}"
    assert seedbot(tmp_path, "style", "discord:x", "list").returncode == 2  # a malformed workspace
    assert seedbot(tmp_path, "style", WS, "remove", "noir").returncode == 0
    audit = seedbot(tmp_path, "audit", WS).stdout
    for action in ("style.add", "style.change", "style.hide", "style.remove"):
        assert action in audit, audit


def test_cast_commands_save_list_and_remove(tmp_path: Path) -> None:
    image = png_file(tmp_path / "mia.png")
    saved = seedbot(tmp_path, "cast", "discord:42", "save", "mia", "--image", str(image))
    assert saved.returncode == 0, saved.stderr
    assert messages.cast_saved("mia", False, 1, 30) in saved.stdout and "`mia`: " in saved.stdout
    full = seedbot(
        tmp_path, "cast", "discord:42", "save", "tom", "--image", str(image), env={"SEEDBOT_CAST_LIMIT": "1"}
    )
    assert friendly_one_liner(full) == f"seedbot: {messages.cast_full(1, False)}"
    server = seedbot(tmp_path, "cast", WS, "save", "logo", "--image", str(image), "--server")
    assert server.returncode == 0 and "this server's cast" in server.stdout, server.stderr
    assert "cast.save" in seedbot(tmp_path, "audit", WS).stdout
    removed = seedbot(tmp_path, "cast", "discord:42", "remove", "mia")
    assert messages.cast_removed("mia", False) in removed.stdout
    # Empty, it says what to type here, not the chat's `cast save NAME` on an attachment.
    assert removed.stdout.splitlines()[-1] == (
        "No cast images for discord:42. Save one: seedbot cast discord:42 save NAME --image PATH"
    )
    assert messages.CAST_EMPTY not in removed.stdout


def test_an_action_typed_where_whose_goes_says_to_name_whose_first(tmp_path: Path) -> None:
    """`seedbot cast save mia` said only "invalid choice: 'mia'" (argparse read save as the owner)."""
    for args, start in (
        (["cast", "save", "mia", "--image", "x.png"], "seedbot cast cli:local save mia --image x.png"),
        (["cast", "list"], "seedbot cast cli:local list"),
        (["style", "add", "noir", "film"], "seedbot style discord:<server id> add noir film"),
    ):
        proc = seedbot(tmp_path, *args)
        assert proc.returncode == 2 and not proc.stdout
        assert proc.stderr.startswith(f"seedbot: say whose first: {start} (a "), proc.stderr
        assert "usage:" not in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "seedbot.db").exists()  # nothing was opened


def test_add_and_hide_over_a_servers_own_style_are_refused_and_keep_it(tmp_path: Path) -> None:
    """`add` over an own style replaced it (words and defaults) and said "added"; `hide` over the
    server's own `anime` overwrote it with the hidden marker."""
    assert seedbot(tmp_path, "style", WS, "add", "anime", "flat", "pastel", "--aspect", "3:2").returncode == 0
    again = friendly_one_liner(seedbot(tmp_path, "style", WS, "add", "anime", "bold", "ink"))
    hide = friendly_one_liner(seedbot(tmp_path, "style", WS, "hide", "anime"))
    listed = seedbot(tmp_path, "style", WS, "list").stdout
    assert '`anime` (this server): adds "flat pastel" · --ar 3:2' in listed, listed
    with i18n.use_place("server"):  # WS is a Discord server
        assert again == f"seedbot: {messages.style_exists('anime')}"
        assert hide == f"seedbot: {messages.style_hide_own('anime')}"

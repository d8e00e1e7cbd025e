"""The playground in the user's language: ?lang= (kept in a cookie), else the cookie, else the
browser's Accept-Language; the page, the script's words, the API's answers and the threads all
speak it. Prompts are never translated."""

from __future__ import annotations

import html
import json
import re

from bot import i18n, messages
from tests.web.conftest import Playground, has, of

LABELS = re.compile(r"data-labels='([^']*)'")


def _in(locale: str, message: str) -> str:
    with i18n.use(locale):
        return i18n.gettext(message)


async def test_lang_de_shows_the_page_in_german(playground: Playground) -> None:
    page = await playground.client.get("/?lang=de")
    text = await page.text()
    assert '<html lang="de">' in text
    for word in ("History", "Help", "Language", "Attach"):
        german = _in("de", word)
        assert german != word, f"{word!r} has no German translation"
        assert f">{html.escape(german)}" in text or f"{html.escape(german)} <" in text
    assert page.cookies["seedbot_lang"].value == "de"


async def test_lang_ja_is_kept_and_every_answer_is_japanese(playground: Playground) -> None:
    response = await playground.client.get("/?lang=ja")
    assert response.status == 200
    page = await playground.open_page()  # no ?lang: the cookie keeps Japanese
    assert '<html lang="ja">' in page
    assert ">履歴<" in page and ">言語 <" in page
    assert '<option value="ja" selected>日本語</option>' in page
    assert '<option value="pt_BR">Português (Brasil)</option>' in page
    labels = json.loads(html.unescape(LABELS.search(page).group(1)))  # type: ignore[union-attr]
    assert labels["reroll"] == "再生成" and labels["statuses"]["succeeded"] == "完了"
    assert labels["image"] == "画像%(n)s"  # the script fills %(n)s in

    prompt = "一只在雪地里的红狐狸, golden hour"
    thread = await playground.ask(prompt, count="2")
    entries = await playground.until(thread, has("result"))
    ask, result = of(entries, "ask")[0], of(entries, "result")[0]
    assert ask["text"] == prompt  # as typed
    assert "2枚" in ask["options"]
    assert result["caption"].startswith(prompt + "\n")
    assert "今日の残り：18枚。" in result["caption"]
    assert [a["label"] for a in result["actions"]][:3] == ["再生成", "バリエーション", "編集"]
    # The edit's references are named in Japanese too (they were "result 2 of job …").
    await playground.reply(thread, "#2 夜にして", job=result["job"])
    edit = of(await playground.until(thread, has("result", 2)), "result")[1]
    assert f"ジョブ {result['job']} の結果2" in edit["caption"] and "result 2" not in edit["caption"]
    await playground.settled()
    assert (await playground.usage()).startswith("今日の残り：20枚中 17枚")
    help_text = (await (await playground.client.get("/api/help")).json())["text"]
    assert "#N（N枚目の画像を選ぶ）" in help_text and "pick image" not in help_text


async def test_accept_language_picks_the_language_when_nothing_was_chosen(playground: Playground) -> None:
    page = await playground.client.get("/", headers={"Accept-Language": "ko-KR, zh-CN;q=0.8, en;q=0.5"})
    assert '<html lang="zh-CN">' in await page.text()
    page = await playground.client.get("/", headers={"Accept-Language": "ko-KR, it;q=0.9"})
    assert '<html lang="en">' in await page.text()  # nothing seedbot speaks: English
    refused = await playground.client.get("/api/usage", headers={"Accept-Language": "ja"})
    assert (await refused.json())["text"].startswith("今日の残り")
    # A choice made on the page wins over the browser's wish.
    await playground.client.get("/?lang=en")
    page = await playground.client.get("/", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in await page.text()
    assert messages.NOT_CHARGED == "You were not charged."  # the test's own context stays English

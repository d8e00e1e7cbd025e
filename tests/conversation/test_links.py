"""Image links in a message: which are references, and what is left of the prompt."""

from __future__ import annotations

import httpx
import pytest

from bot.conversation.links import MAX_LINKS, LinkedImages, image_links
from bot.errors import DownloadError
from bot.media.fetch import SafeFetcher


@pytest.mark.parametrize(
    ("text", "rest", "links"),
    [
        ("as anime https://i.imgur.com/cat.jpg", "as anime ", ["https://i.imgur.com/cat.jpg"]),
        ("<https://x.org/a/B.PNG?ex=1&hm=2> brighter", " brighter", ["https://x.org/a/B.PNG?ex=1&hm=2"]),
        ("see https://x.org/a.webp.", "see .", ["https://x.org/a.webp"]),
        ("https://x.org/a.png and https://x.org/a.png", " and ", ["https://x.org/a.png"]),
        # Not an image file's link: words of the prompt.
        ("a poster for https://example.com/shop", "a poster for https://example.com/shop", []),
        ("https://x.org/a.png.html", "https://x.org/a.png.html", []),
        ("ftp://x.org/a.png", "ftp://x.org/a.png", []),
        ("a.png", "a.png", []),
    ],
)
def test_image_links(text: str, rest: str, links: list[str]) -> None:
    assert image_links(text) == (rest, links)


def test_links_past_the_most_stay_in_the_prompt() -> None:
    urls = [f"https://x.org/{i}.png" for i in range(MAX_LINKS + 1)]
    rest, links = image_links(" ".join(urls))
    assert links == urls[:MAX_LINKS] and rest.strip() == urls[-1]


async def test_a_link_to_a_private_address_is_refused_before_any_request() -> None:
    async with httpx.AsyncClient() as http:
        linked = LinkedImages(SafeFetcher(http), ["http://127.0.0.1:9/cat.png"])
        with pytest.raises(DownloadError):
            await linked.load()
    assert len(linked) == 1


async def test_a_link_with_a_lone_bracket_is_refused_not_a_crash() -> None:
    """`a cat like https://[::1/cat.png`: urlsplit's ValueError while naming the link."""
    async with httpx.AsyncClient() as http:
        linked = LinkedImages(SafeFetcher(http), image_links("a cat like https://[::1/cat.png")[1])
        with pytest.raises(DownloadError) as err:
            await linked.load()
    assert "could not be found" in err.value.user_text

"""The saved cast of references, once for every surface: a person keeps images under names
(an admin keeps the server's too) and uses them in any request with `--ref NAME`.

Entries live in the ledger, which keeps their images past SEEDBOT_IMAGE_RETENTION_DAYS until the
entry is removed. A name is looked up in the person's own cast first, then the server's. Names
that are missing are refused before anything is downloaded or charged, with close names.
"""

from __future__ import annotations

import dataclasses
import re

from bot import messages
from bot.conversation.policy import Policy
from bot.errors import FlagError, InvalidRequest
from bot.ledger.base import CastEntry, Ledger
from bot.numbers import whole_number
from bot.request.models import ImageInput, Requester
from bot.request.styles import check_name, close_names
from bot.request.validation import check_reference_count
from bot.request.workspace import workspace_key

__all__ = ["Cast"]


class Cast:
    def __init__(self, ledger: Ledger, policy: Policy, limit: int) -> None:
        self.ledger = ledger
        self.policy = policy
        self.limit = limit  # SEEDBOT_CAST_LIMIT

    def _owner(self, who: Requester, server: bool, *, change: bool = False) -> str:
        if not server:
            return who.key
        if change:
            self.policy.may_administer(who)
        workspace = workspace_key(who)
        if workspace is None:
            raise InvalidRequest(messages.NEEDS_WORKSPACE)
        return self.server_owner(workspace)

    async def save(self, who: Requester, name: str, image: ImageInput, *, server: bool = False) -> str:
        owner = self._owner(who, server, change=True)
        said = await self.keep(owner, name, image, server=server)
        if server:  # an admin change, recorded like the others
            await self.ledger.record_audit(
                who.key, "cast.save", _workspace_of(owner), check_name(name, "cast")
            )
        return said

    async def remove(self, who: Requester, name: str, *, server: bool = False) -> str:
        owner = self._owner(who, server, change=True)
        said = await self.forget(owner, name, server=server)
        if server:
            await self.ledger.record_audit(
                who.key, "cast.remove", _workspace_of(owner), check_name(name, "cast")
            )
        return said

    async def entries(self, who: Requester, *, server: bool = False) -> list[CastEntry]:
        """The entries with their images (a surface that shows thumbnails)."""
        return await self.ledger.cast(self._owner(who, server))

    async def listing(self, who: Requester, *, server: bool = False) -> str:
        return await self.listing_of(self._owner(who, server), server=server)

    # -- by owner ("discord:1", "workspace:discord:9"): the checks above done, or the CLI's -------

    @staticmethod
    def server_owner(workspace: str) -> str:
        return f"workspace:{workspace}"

    async def keep(self, owner: str, name: str, image: ImageInput, *, server: bool = False) -> str:
        key = check_name(name, "cast")
        replaced = await self.ledger.cast_entry(owner, key) is not None  # said: it was not kept
        if not await self.ledger.save_cast(owner, key, image, self.limit):
            raise InvalidRequest(messages.cast_full(self.limit, server))
        count = len(await self.ledger.cast(owner))
        return messages.cast_saved(key, server, count, self.limit, replaced=replaced)

    async def forget(self, owner: str, name: str, *, server: bool = False) -> str:
        key = check_name(name, "cast")
        if not await self.ledger.remove_cast(owner, key):
            raise InvalidRequest(messages.cast_missing(key, server))
        return messages.cast_removed(key, server)

    async def listing_of(self, owner: str, *, server: bool = False) -> str:
        entries = await self.ledger.cast(owner)
        if not entries:
            return messages.shared_cast_empty() if server else messages.CAST_EMPTY
        title = messages.shared_cast_title() if server else messages.own_cast_title(len(entries), self.limit)
        lines = [messages.cast_line(e.name, e.image.width, e.image.height, e.image.name) for e in entries]
        return messages.cast_list(title, lines)

    async def names(self, who: Requester) -> list[str]:
        """Every name `who` may use with --ref: their own, then the server's (autocomplete)."""
        own = [e.name for e in await self.ledger.cast(who.key)]
        workspace = workspace_key(who)
        shared = [e.name for e in await self.ledger.cast(f"workspace:{workspace}")] if workspace else []
        return list(dict.fromkeys([*own, *shared]))

    async def resolve(
        self, who: Requester, names: tuple[str, ...], *, alongside: int = 0, listing: str = "cast list"
    ) -> list[ImageInput]:
        """The images of `names`, in order, labelled `cast "name"` (FlagError for a missing one,
        saying that `listing` lists the cast; InvalidImage when they and `alongside` other
        references pass Seedream's limit)."""
        if not names:
            return []
        check_reference_count(len(names) + alongside)
        workspace = workspace_key(who)
        found: list[ImageInput] = []
        for name in names:
            key = check_name(name, "cast")
            entry = await self.ledger.cast_entry(who.key, key)
            if entry is None and workspace is not None:
                entry = await self.ledger.cast_entry(f"workspace:{workspace}", key)
            if entry is None:
                close = close_names(key, await self.names(who))
                raise FlagError(
                    messages.unknown_cast(key, close, shared=workspace is not None, listing=listing)
                )
            found.append(
                dataclasses.replace(entry.image, name=messages.cast_label(key), source=f"cast:{key}")
            )
        return found

    # -- the words, on every surface -------------------------------------------------------------

    @staticmethod
    def parse(text: str) -> tuple[str, str, bool, int | None]:
        """`cast save NAME [#N] [--server]` -> (verb, name, server, pick); `save #2 as NAME` is
        the same save."""
        if said := _SAVE_AS.fullmatch(text):
            text = f"cast save {said['name']} {said['pick'] or said['then'] or ''}"
        elif _MY_CAST.fullmatch(text):
            text = "cast list"
        words = text.split()
        server = "--server" in (w.lower() for w in words)
        words = [w for w in words if w.lower() != "--server"]
        pick = None
        for word in list(words):
            number = whole_number(word[1:]) if word.startswith("#") else None
            if number is not None:
                pick = number
                words.remove(word)
        if len(words) == 4 and words[2].lower() == "as":  # "cast save #2 as mia", as people say it
            del words[2]
        verb = words[1].lower() if len(words) > 1 else "list"
        name = words[2] if len(words) > 2 else ""
        if len(words) > 3:
            raise InvalidRequest(messages.cast_help())
        return verb, name, server, pick


def _workspace_of(owner: str) -> str:
    return owner.removeprefix("workspace:")


# "save as rex", "save #2 as rex", "save this as rex": what people say for `cast save rex`.
_SAVE_AS = re.compile(
    r"\s*save\s+(?:(?:it|this|that|(?P<pick>#\d{1,2}))\s+)?as\s+(?P<name>[^\s#]+)\s*(?P<then>#\d{1,2})?\s*[.!]?\s*",
    re.IGNORECASE,
)


# "my cast", "show me my cast": the list.
_MY_CAST = re.compile(
    r"\s*(?:(?:show|list)\s+(?:me\s+)?)?(?:my|the)\s+cast(?:\s+list)?\s*[?.!]*\s*", re.IGNORECASE
)


# What may follow "cast" in a command: its verbs (`_cast_command`), `--server`, `help`.
CAST_WORDS = frozenset({"list", "ls", "show", "remove", "delete", "rm", "save", "add", "help", "--server"})


def is_cast_command(text: str) -> bool:
    """`cast` and one of its verbs (or a word: a verb mistyped, answered with the help);
    "cast of characters around a fire" is a prompt."""
    words = text.split()
    if words and words[0].lower() == "cast" and (len(words) <= 2 or words[1].lower() in CAST_WORDS):
        return True
    return _SAVE_AS.fullmatch(text) is not None or _MY_CAST.fullmatch(text) is not None

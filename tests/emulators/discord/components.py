"""Users clicking components (buttons, selects) on stored messages and submitting the modals the bot
opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from tests.emulators.discord.constants import (
    CT_DM,
    CTX_PRIVATE_CHANNEL,
    HUMAN_USER_ID,
    IT_COMPONENT,
    IT_MODAL_SUBMIT,
    _sid,
)
from tests.emulators.discord.models import EmulatedInteraction


class ComponentsMixin:
    """Component interactions and modal submits.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    @staticmethod
    def _walk_components(components: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for c in components:
            yield c
            for key in ("components", "items"):
                if isinstance(c.get(key), list):
                    yield from ComponentsMixin._walk_components(c[key])
            for key in ("accessory", "component"):
                if isinstance(c.get(key), Mapping):
                    yield from ComponentsMixin._walk_components([c[key]])

    def find_component_message(
        self, custom_id: str, *, channel_id: str | int | None = None
    ) -> dict[str, Any] | None:
        """The newest stored message (optionally in ``channel_id``) carrying a component ``custom_id``."""
        cid = _sid(channel_id) if channel_id is not None else None
        for msg in sorted(self.messages.values(), key=lambda m: int(m["id"]), reverse=True):
            if cid is not None and msg["channel_id"] != cid:
                continue
            if any(c.get("custom_id") == custom_id for c in self._walk_components(msg.get("components", []))):
                return msg
        return None

    async def send_component(
        self,
        custom_id: str,
        *,
        message_id: str | int | None = None,
        values: Sequence[str] | None = None,
        component_type: int | None = None,
        user_id: str | int = HUMAN_USER_ID,
        dm: bool = False,
        allow_disabled: bool = False,
        locale: str = "en-US",
    ) -> EmulatedInteraction:
        """A user clicks a button / picks select ``values`` on a stored message (newest one carrying
        ``custom_id`` unless ``message_id`` is given).  Disabled or absent components raise, as the
        Discord client would never send them."""
        if message_id is not None:
            msg = self.messages.get(_sid(message_id))
            if msg is None:
                raise ValueError(f"unknown message {message_id}")
        else:
            msg = self.find_component_message(custom_id)
            if msg is None:
                raise LookupError(f"no stored message has a component with custom_id {custom_id!r}")
        comp = next(
            (c for c in self._walk_components(msg.get("components", [])) if c.get("custom_id") == custom_id),
            None,
        )
        if comp is None:
            raise LookupError(f"message {msg['id']} has no component {custom_id!r}")
        if comp.get("disabled") and not allow_disabled:
            raise ValueError(f"component {custom_id!r} is disabled")
        ctype = component_type or int(comp["type"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if "id" in comp:
            data["id"] = comp["id"]
        if ctype != 2:
            data["values"] = list(values or [])
            if ctype in (5, 6, 7, 8) and values:
                res: dict[str, dict[str, Any]] = {}
                for v in values:
                    self._resolve_value({5: 6, 6: 8, 7: 9, 8: 7}[ctype], v, res, dm=dm, where=custom_id)
                data["resolved"] = res
        channel = self.channels.get(msg["channel_id"])
        in_dm = dm or (channel is not None and channel["type"] == CT_DM)
        # Where the bot is not a member, the message is a user install's: the owners are those of
        # the interaction that made it (whoever presses the button).
        owners = None
        if self.bot_absent(msg["channel_id"]):
            owners = (msg.get("interaction_metadata") or {}).get("authorizing_integration_owners") or None
        env = self._interaction_envelope(
            IT_COMPONENT,
            data,
            user_id=user_id,
            channel_id=None if in_dm else msg["channel_id"],
            dm=in_dm,
            message=self.message_payload(msg["id"]),
            owners=owners,
            locale=locale,
        )
        return await self.send_interaction(env)

    # ------------------------------------------------------------------ modals

    def _modal_leaf(
        self, comp: Mapping[str, Any], values: Mapping[str, Any], seen: set[str]
    ) -> dict[str, Any]:
        cid = comp.get("custom_id")
        out: dict[str, Any] = {"type": comp["type"]}
        if "id" in comp:
            out["id"] = comp["id"]
        if cid is None:
            return out
        out["custom_id"] = cid
        seen.add(cid)
        if comp["type"] == 4:
            value = values.get(cid, comp.get("value") or "")
            if not isinstance(value, str):
                raise ValueError(f"text input {cid!r} needs a str value")
            if comp.get("required", True) and not value:
                raise ValueError(f"text input {cid!r} is required")
            if value and comp.get("min_length") and len(value) < comp["min_length"]:
                raise ValueError(f"text input {cid!r} shorter than min_length {comp['min_length']}")
            if comp.get("max_length") and len(value) > comp["max_length"]:
                raise ValueError(f"text input {cid!r} longer than max_length {comp['max_length']}")
            out["value"] = value
        else:
            raw = values.get(cid, [])
            out["values"] = [raw] if isinstance(raw, str) else list(raw)
        return out

    def _modal_components(self, modal: Mapping[str, Any], values: Mapping[str, Any]) -> list[dict[str, Any]]:
        inputs = {
            c["custom_id"] for c in self._walk_components(modal.get("components", [])) if "custom_id" in c
        }
        unknown = set(values) - inputs
        if unknown:
            raise ValueError(
                f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)}; inputs: {sorted(inputs)}"
            )
        seen: set[str] = set()
        out: list[dict[str, Any]] = []
        for comp in modal.get("components", []):
            if comp["type"] == 1:
                row: dict[str, Any] = {
                    "type": 1,
                    "components": [self._modal_leaf(c, values, seen) for c in comp.get("components", [])],
                }
                if "id" in comp:
                    row["id"] = comp["id"]
                out.append(row)
            elif comp["type"] == 18:
                label: dict[str, Any] = {
                    "type": 18,
                    "component": self._modal_leaf(comp["component"], values, seen),
                }
                if "id" in comp:
                    label["id"] = comp["id"]
                out.append(label)
            elif "id" in comp:
                out.append({"type": comp["type"], "id": comp["id"]})
        return out

    def last_modal(self) -> tuple[EmulatedInteraction, dict[str, Any]]:
        """The most recent interaction answered with a modal, and the modal."""
        for it in reversed(list(self.interactions.values())):
            if it.modal is not None:
                return it, it.modal
        raise LookupError("the bot has not opened any modal")

    async def send_modal_submit(
        self,
        values: Mapping[str, Any],
        *,
        opened_by: EmulatedInteraction | None = None,
        custom_id: str | None = None,
        components: list[dict[str, Any]] | None = None,
        user_id: str | int | None = None,
        locale: str = "en-US",
    ) -> EmulatedInteraction:
        """Submit a modal (type 5).  By default the modal the bot opened last; the submitted
        components mirror its layout (action rows or labels) with ``values`` keyed by input custom_id."""
        if opened_by is None and custom_id is None:
            opened_by, _ = self.last_modal()
        modal = opened_by.modal if opened_by is not None else None
        if opened_by is not None and modal is None:
            raise LookupError(f"{opened_by!r} was not answered with a modal")
        cid = custom_id or (modal or {}).get("custom_id")
        if components is None:
            if modal is None:
                components = [
                    {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                    for k, v in values.items()
                ]
            else:
                components = self._modal_components(modal, values)
        data = {"custom_id": cid, "components": components}
        src = opened_by.payload if opened_by is not None else {}
        uid = (
            user_id
            if user_id is not None
            else (src.get("member", {}).get("user") or src.get("user") or {"id": HUMAN_USER_ID})["id"]
        )
        dm = bool(src) and "guild_id" not in src and src.get("context") != CTX_PRIVATE_CHANNEL
        message = None
        if src.get("message") and src["message"]["id"] in self.messages:
            message = self.message_payload(src["message"]["id"])
        env = self._interaction_envelope(
            IT_MODAL_SUBMIT,
            data,
            user_id=uid,
            channel_id=None if dm else src.get("channel_id"),
            dm=dm,
            message=message,
            owners=src.get("authorizing_integration_owners") or None,
            locale=locale,
        )
        return await self.send_interaction(env)

"""The bot answering interactions: the initial callback (types 4-9, once, within the deadline),
followups and the ``@original`` / followup messages of the interaction webhook.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from tests.emulators.discord.constants import (
    FLAG_EPHEMERAL,
    FLAG_IS_COMPONENTS_V2,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    IT_APPLICATION_COMMAND,
    IT_AUTOCOMPLETE,
    IT_COMPONENT,
    IT_MODAL_SUBMIT,
    MAX_FOLLOWUPS_USER_INSTALL,
    MT_CHAT_INPUT_COMMAND,
    MT_CONTEXT_MENU_COMMAND,
    MT_DEFAULT,
    USER_INSTALL,
)
from tests.emulators.discord.models import EmulatedInteraction, _ApiError, _form_error, _Req, _Resp, _unknown


class CallbacksMixin:
    """Interaction callbacks and webhooks.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    async def _r_interaction_callback(self, req: _Req) -> Any:
        it = self.interactions.get(req.params["token"])
        if it is None or it.id != req.params["interaction_id"] or it.callback_expired:
            raise _ApiError(404, 10062, "Unknown interaction")
        if (
            self.interaction_ack_deadline is not None
            and time.monotonic() - it.created_at > self.interaction_ack_deadline
        ):
            raise _ApiError(404, 10062, "Unknown interaction")
        if it.response_type is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = req.body or {}
        rtype = body.get("type")
        data = body.get("data") or {}
        has_message = "message" in it.payload
        allowed = {
            IT_APPLICATION_COMMAND: {4, 5, 9},
            IT_COMPONENT: {4, 5, 6, 7, 9},
            IT_AUTOCOMPLETE: {8},
            IT_MODAL_SUBMIT: {4, 5, 6, 7} if has_message else {4, 5},
        }[it.type]
        if rtype not in allowed:
            raise _form_error(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type {rtype} is invalid here",
            )

        info: dict[str, Any] = {"id": it.id, "type": it.type}
        result: dict[str, Any] = {"interaction": info}
        if rtype in (4, 5):
            self._validate_message(data, req.uploads, creating=rtype == 4)
            mtype = MT_DEFAULT
            if it.type == IT_APPLICATION_COMMAND:
                mtype = MT_CHAT_INPUT_COMMAND if it.data.get("type", 1) == 1 else MT_CONTEXT_MENU_COMMAND
            msg = self._interaction_message(it, mtype)
            if rtype == 4:
                self._apply_message_body(msg, data, req.uploads, creating=True)
            msg["flags"] = int(data.get("flags") or 0) & (
                FLAG_EPHEMERAL | FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2
            )
            if rtype == 5:
                msg["flags"] |= FLAG_LOADING
                it.deferred_pending = True
            self._store_message(msg)
            it.original_message_id = msg["id"]
            info.update(
                response_message_id=msg["id"],
                response_message_loading=rtype == 5,
                response_message_ephemeral=bool(msg["flags"] & FLAG_EPHEMERAL),
            )
            result["resource"] = {"type": rtype, "message": self.message_payload(msg["id"])}
        elif rtype in (6, 7):
            target_id = it.payload["message"]["id"]
            it.original_message_id = target_id
            info.update(
                response_message_id=target_id,
                response_message_loading=False,
                response_message_ephemeral=False,
            )
            target = self.messages.get(target_id)
            if rtype == 7:
                if target is None:
                    raise _unknown("Message", 10008)
                self._validate_message(data, req.uploads, creating=False, existing=target)
                self._apply_message_body(target, data, req.uploads, creating=False)
                info["response_message_ephemeral"] = bool(target.get("flags", 0) & FLAG_EPHEMERAL)
                result["resource"] = {"type": 7, "message": self.message_payload(target_id)}
        elif rtype == 8:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise _form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for n, choice in enumerate(choices):  # an option choice's name and value: 1 to 100
                for key in ("name", "value"):
                    if isinstance(choice.get(key), str) and not 1 <= len(choice[key]) <= 100:
                        raise _form_error(
                            f"data.choices.{n}.{key}",
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        )
            it.choices = choices
        elif rtype == 9:
            title = data.get("title") or ""
            if not 1 <= len(title) <= 45:
                raise _form_error("data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
            if not 1 <= len(data.get("custom_id") or "") <= 100:
                raise _form_error(
                    "data.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            if not 1 <= len(data.get("components") or []) <= 5:
                raise _form_error(
                    "data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
                )
            self._validate_modal(data)
            it.modal = copy.deepcopy(data)

        it.response_type = rtype
        it.response_body = copy.deepcopy(body)
        if rtype in (4, 5) and it.original_message_id:
            await self._emit_message("MESSAGE_CREATE", it.original_message_id)
        elif rtype == 7 and it.original_message_id:
            await self._emit_message("MESSAGE_UPDATE", it.original_message_id)
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return _Resp(204)
        return result

    def _interaction_message(self, it: EmulatedInteraction, mtype: int) -> dict[str, Any]:
        channel_id = it.payload["channel"]["id"]
        msg = self._base_message(channel_id=channel_id, author=self.user(self.bot_user_id), type=mtype)
        msg["webhook_id"] = self.application_id
        msg["application_id"] = self.application_id
        invoker = it.payload.get("member", {}).get("user") or it.payload.get("user")
        meta: dict[str, Any] = {
            "id": it.id,
            "type": it.type,
            "user": invoker,
            "authorizing_integration_owners": it.payload.get("authorizing_integration_owners", {}),
        }
        if it.type == IT_APPLICATION_COMMAND:
            meta["name"] = it.data.get("name")
            meta["command_type"] = it.data.get("type", 1)
            if it.data.get("type") == 3:
                meta["target_message_id"] = it.data.get("target_id")
            msg["interaction"] = {"id": it.id, "type": it.type, "name": it.data.get("name"), "user": invoker}
        elif "message" in it.payload:
            meta["interacted_message_id"] = it.payload["message"]["id"]
        msg["interaction_metadata"] = meta
        return msg

    def _webhook_interaction(self, req: _Req) -> EmulatedInteraction:
        it = self.interactions.get(req.params["token"])
        if it is None or req.params["app_id"] != self.application_id:
            raise _ApiError(404, 10015, "Unknown Webhook")
        if it.webhook_expired or time.monotonic() - it.created_at > self.interaction_token_lifetime:
            # The token's 15 minutes are over: Discord answers 401, not 404 (discord-api-docs #6851).
            raise _ApiError(401, 50027, "Invalid Webhook Token")
        if it.response_type is None:  # the webhook only exists once the interaction is acknowledged
            raise _ApiError(404, 10015, "Unknown Webhook")
        return it

    def _webhook_message_id(self, it: EmulatedInteraction, raw: str) -> str:
        if raw == "@original":
            if it.original_message_id is None or it.original_message_id not in self.messages:
                raise _unknown("Message", 10008)
            return it.original_message_id
        if raw != it.original_message_id and raw not in it.followup_ids:
            raise _unknown("Message", 10008)
        if raw not in self.messages:
            raise _unknown("Message", 10008)
        return raw

    async def _r_followup(self, req: _Req) -> Any:
        it = self._webhook_interaction(req)
        body = req.body or {}
        owners = it.payload.get("authorizing_integration_owners") or {}
        if set(owners) == {USER_INSTALL} and it.followups_created >= MAX_FOLLOWUPS_USER_INSTALL:
            # Documented limit (Create Followup Message); the error code is not documented.
            raise _ApiError(
                400, 0, f"Maximum number of follow-up messages reached ({MAX_FOLLOWUPS_USER_INSTALL})"
            )
        self._validate_message(body, req.uploads, creating=True)
        if it.payload["channel"]["id"] not in self.channels:  # deleted meanwhile (delete_channel)
            raise _unknown("Channel", 10003)
        original = self.messages.get(it.original_message_id or "")
        if it.deferred_pending and original is not None and original.get("flags", 0) & FLAG_LOADING:
            # The first followup after a "thinking" defer replaces the loading message (same id,
            # keeps the defer's ephemerality).
            it.deferred_pending = False
            deferred_ephemeral = original["flags"] & FLAG_EPHEMERAL
            self._apply_message_body(original, body, req.uploads, creating=True)
            original["flags"] = (original["flags"] & ~(FLAG_LOADING | FLAG_EPHEMERAL)) | deferred_ephemeral
            it.followup_ids.append(original["id"])
            await self._emit_message("MESSAGE_UPDATE", original["id"])
            mid = original["id"]
        else:
            msg = self._interaction_message(it, MT_DEFAULT)
            self._apply_message_body(msg, body, req.uploads, creating=True)
            self._store_message(msg)
            it.followup_ids.append(msg["id"])
            await self._emit_message("MESSAGE_CREATE", msg["id"])
            mid = msg["id"]
        it.followups_created += 1
        if req.query.get("wait", "").lower() not in ("1", "true"):
            return _Resp(204)
        return self.message_payload(mid)

    async def _r_webhook_get(self, req: _Req) -> Any:
        it = self._webhook_interaction(req)
        return self.message_payload(self._webhook_message_id(it, req.params["message_id"]))

    async def _r_webhook_edit(self, req: _Req) -> Any:
        it = self._webhook_interaction(req)
        mid = self._webhook_message_id(it, req.params["message_id"])
        body = req.body or {}
        msg = self.messages[mid]
        self._validate_message(body, req.uploads, creating=False, existing=msg)
        was_loading = bool(msg.get("flags", 0) & FLAG_LOADING)
        self._apply_message_body(msg, body, req.uploads, creating=False)
        if was_loading:
            msg["flags"] &= ~FLAG_LOADING
            msg["edited_timestamp"] = None
            it.deferred_pending = False
        await self._emit_message("MESSAGE_UPDATE", mid)
        return self.message_payload(mid)

    async def _r_webhook_delete(self, req: _Req) -> Any:
        it = self._webhook_interaction(req)
        mid = self._webhook_message_id(it, req.params["message_id"])
        await self._delete_message(mid)
        return _Resp(204)

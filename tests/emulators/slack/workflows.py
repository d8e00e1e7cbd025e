"""Workflow Builder custom steps ("functions" in the manifest): ``function_executed`` events and
``functions.completeSuccess`` / ``functions.completeError``.

How Slack does it (docs.slack.dev/reference/events/function_executed,
/reference/methods/functions.completeSuccess, /functions.completeError; bolt-python
``docs/english/concepts/custom-steps.md``; bolt-python issue #1075 for the token's lifetime):

* the app declares each step under ``functions.<callback_id>`` with ``input_parameters`` and
  ``output_parameters`` (name -> ``{type, title, description, is_required, ...}``);
* a workflow run reaches the step: Slack sends ``function_executed`` with the definition
  (``function.input_parameters`` as a list), the run's ``inputs``, a ``function_execution_id``,
  a ``workflow_execution_id`` and a just-in-time ``bot_access_token`` (valid for that execution
  only: revoked once the step completes, at the latest 15 minutes after it was issued);
* the app ends the step once: ``functions.completeSuccess`` with ``outputs`` (a JSON object that
  must satisfy the output parameters, else ``parameter_validation_failed``), or
  ``functions.completeError`` with a human-readable ``error`` that Slack shows the person who ran
  the workflow; an unknown id is ``function_execution_not_found``, a finished one
  ``execution_not_in_running_state``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from tests.emulators.slack.constants import APP_ID, _maybe_json
from tests.emulators.slack.models import RecordedRequest, _ApiError

TOKEN_LIFETIME = 15 * 60  # seconds a step's bot_access_token lives at most


class WorkflowsMixin:
    """Custom steps and their executions.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``:
    ``functions`` (callback_id -> definition) and ``executions`` (function_execution_id -> the
    execution's ``callback_id``, ``inputs``, ``token``, ``state`` running/completed/failed,
    ``outputs`` or ``error``, and the token each completion call came with).
    """

    def define_function(self, callback_id: str, definition: dict[str, Any]) -> None:
        """Declare a step as the app's manifest does (``functions.<callback_id>``)."""
        self.functions[callback_id] = definition

    def function_executed_event(self, callback_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """A workflow run reaches the step: checks ``inputs`` against the definition (Workflow
        Builder only lets a workflow fill declared inputs, every required one), starts an
        execution and returns the ``function_executed`` event to post."""
        definition = self.functions[callback_id]
        declared = definition.get("input_parameters") or {}
        unknown = set(inputs) - set(declared)
        assert not unknown, f"inputs {sorted(unknown)} are not declared by {callback_id}"
        problems = self._parameter_problems(declared, inputs)
        assert not problems, f"Workflow Builder would not run {callback_id} with {inputs}: {problems}"
        execution_id = self._new_id("Fx")
        token = f"xwfp-{secrets.token_hex(12)}"
        self.executions[execution_id] = {
            "callback_id": callback_id,
            "inputs": dict(inputs),
            "token": token,
            "issued": time.time(),
            "state": "running",
            "outputs": None,
            "error": None,
            "completed_with": None,
        }
        now = int(time.time())
        return {
            "type": "function_executed",
            "function": {
                "id": self._new_id("Fn"),
                "callback_id": callback_id,
                "title": definition.get("title", callback_id),
                "description": definition.get("description", ""),
                "type": "app",
                "input_parameters": _as_list(declared),
                "output_parameters": _as_list(definition.get("output_parameters") or {}),
                "app_id": APP_ID,
                "date_created": now,
                "date_updated": now,
                "date_deleted": 0,
            },
            "inputs": dict(inputs),
            "function_execution_id": execution_id,
            "workflow_execution_id": self._new_id("Wx"),
            "event_ts": self.next_ts(),
            "bot_access_token": token,
        }

    def interactivity(self, user: str) -> dict[str, Any]:
        """What Slack fills a `slack#/types/interactivity` input with when `user` clicks the
        workflow's trigger (a link, a button, a shortcut)."""
        return {
            "interactivity_pointer": f"{int(time.time())}.{secrets.token_hex(4)}.{secrets.token_hex(16)}",
            "interactor": {"id": user, "secret": secrets.token_hex(16)},
        }

    def workflow_token_valid(self, token: str) -> bool | None:
        """True for the token of a running execution, False for one revoked or expired, None
        for a token that was never a step's."""
        for execution in self.executions.values():
            if execution["token"] == token:
                fresh = time.time() - execution["issued"] < TOKEN_LIFETIME
                return execution["state"] == "running" and fresh
        return None

    # -- checking parameters ------------------------------------------------------------------

    def _parameter_problems(self, declared: dict[str, Any], values: dict[str, Any]) -> list[str]:
        problems = []
        for name, spec in declared.items():
            if name not in values or values[name] in (None, ""):
                if spec.get("is_required"):
                    problems.append(f"{name} is required")
                continue
            problem = self._type_problem(spec, values[name])
            if problem:
                problems.append(f"{name}: {problem}")
        return problems

    def _type_problem(self, spec: dict[str, Any], value: Any) -> str | None:
        kind = spec.get("type")
        if kind == "string":
            if not isinstance(value, str):
                return "must be a string"
            choices = spec.get("enum")
            if choices and value not in choices:
                return f"must be one of {choices}"
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return "must be an integer"
            if "minimum" in spec and value < spec["minimum"]:
                return f"must be at least {spec['minimum']}"
            if "maximum" in spec and value > spec["maximum"]:
                return f"must be at most {spec['maximum']}"
        elif kind == "boolean":
            if not isinstance(value, bool):
                return "must be a boolean"
        elif kind == "slack#/types/user_id":
            if value not in self.users:
                return "must be a user of the workspace"
        elif kind == "slack#/types/channel_id":
            if value not in self.channels:
                return "must be a channel of the workspace"
        elif kind == "slack#/types/interactivity":  # Slack fills it from the click on a trigger
            interactor = value.get("interactor") if isinstance(value, dict) else None
            if not isinstance(interactor, dict) or interactor.get("id") not in self.users:
                return "must be the interactivity of a user's click"
            if not value.get("interactivity_pointer"):
                return "must carry an interactivity_pointer"
        elif kind == "slack#/types/file_id":
            if value not in self.files:
                return "must be a file of the workspace"
        elif kind == "array":
            if not isinstance(value, list):
                return "must be an array"
            items = spec.get("items") or {}
            for n, item in enumerate(value):
                problem = self._type_problem(items, item)
                if problem:
                    return f"item {n} {problem}"
        else:
            return f"the emulator does not know the type {kind!r}"
        return None

    # -- Web API ------------------------------------------------------------------------------

    def _execution(self, p: dict[str, Any]) -> dict[str, Any]:
        execution_id = p.get("function_execution_id")
        if not execution_id:
            raise _ApiError("invalid_arguments")
        execution = self.executions.get(str(execution_id))
        if execution is None:
            raise _ApiError("function_execution_not_found")
        if execution["state"] != "running":
            raise _ApiError("execution_not_in_running_state")
        return execution

    def _functions_complete_success(self, p: dict[str, Any], rec: RecordedRequest) -> dict[str, Any]:
        execution = self._execution(p)
        outputs = _maybe_json(p.get("outputs"))
        if not isinstance(outputs, dict):
            raise _ApiError("invalid_arguments")
        declared = self.functions[execution["callback_id"]].get("output_parameters") or {}
        problems = [f"{name} is not an output parameter" for name in set(outputs) - set(declared)]
        problems += self._parameter_problems(declared, outputs)
        if problems:
            raise _ApiError("parameter_validation_failed", errors=problems)
        execution.update(state="completed", outputs=outputs, completed_with=rec.token)
        self._notify()
        return {}

    def _functions_complete_error(self, p: dict[str, Any], rec: RecordedRequest) -> dict[str, Any]:
        execution = self._execution(p)
        error = p.get("error")
        if not isinstance(error, str) or not error.strip():
            raise _ApiError("invalid_arguments")
        execution.update(state="failed", error=error, completed_with=rec.token)
        self._notify()
        return {}


def _as_list(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's form of a definition's parameters: a list, each with its ``name``."""
    return [{"name": name, **spec} for name, spec in parameters.items()]

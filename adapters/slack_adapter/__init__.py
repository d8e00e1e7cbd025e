"""seedbot on Slack: mentions, DMs, thread replies, /imagine, buttons, App Home.

`create(runtime)` is the `seedbot.platforms` entry point (see pyproject.toml).
"""

from adapters.slack_adapter.app import SlackPlatform, create

__all__ = ["SlackPlatform", "create"]

"""seedbot on Slack: mentions, DMs, thread replies, /imagine, buttons, App Home.

`plugin` (plugin.py) is the `seedbot.platforms` entry point (see pyproject.toml); the platform
itself is `app.SlackPlatform`, its settings `settings.SlackSettings`, its doctor checks doctor.py.
"""

from adapters.slack_adapter.plugin import plugin

__all__ = ["plugin"]

"""Work that runs after the ack: tracked, so shutdown can wait for it and then cancel it.

The implementation is shared by every chat adapter (bot/conversation/tasks.py); Slack's tasks log as "slack".
"""

from __future__ import annotations

from bot.conversation.tasks import BackgroundTasks as _SharedTasks

__all__ = ["BackgroundTasks"]


class BackgroundTasks(_SharedTasks):
    def __init__(self) -> None:
        super().__init__("slack")

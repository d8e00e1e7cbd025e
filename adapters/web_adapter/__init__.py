"""The web playground: seedbot in a browser, a third surface of the conversation.

`plugin` (plugin.py) is the `seedbot.platforms` entry point (see pyproject.toml). Modules:

    plugin.py       the plug-in: settings, key shapes, doctor's lines; the rest loads in create
    platform.py     WebPlatform: start/close for `seedbot run`; when it runs
    settings.py     SEEDBOT_WEB_HOST / PORT / TOKEN (pydantic-settings, the same .env)
    app.py          the aiohttp routes: page, API, server-sent events, images
    security.py     sessions, sign-in with the token, CSRF, loopback Host, headers
    surface.py      HTTP requests -> turns of the conversation; the history gallery
    reply.py        the conversation's Reply: entries in a thread of the timeline
    timeline.py     threads and entries, pushed to open pages
    uploads.py      multipart files -> checked reference images (the chat checks)
    store.py        the images shown, in memory and bounded
    templates/      Jinja2 pages (autoescaped); static/: plain JavaScript and CSS, no build step
"""

from adapters.web_adapter.plugin import plugin

__all__ = ["plugin"]

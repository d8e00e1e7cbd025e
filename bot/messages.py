"""Every sentence a user reads, in one place, platform-neutral (plain text, light markdown), in
the language of the moment (bot/i18n.py).

Adapters may add platform formatting around these, but never write their own wording for
errors, quotas or progress.

The English sentences here are the msgids of the gettext catalogs in bot/locales (`make
catalogs` extracts them). Constants are translated when they are read: `messages.NOT_CHARGED`
is looked up in `_TEXTS` by the module's `__getattr__` in the current locale, so a value is never
frozen in the language that happened to be current at import. Functions translate as they are
called. Placeholders are named (`%(count)s`) so a translation may reorder them; counts use
ngettext so each language gets its own plural forms ("1 image", "2 images"; one form in Chinese
and Japanese; French singular for 0 and 1).

Prompts, names people chose (styles, cast), model and provider names, flags (--ar) and command
words users type (/imagine, `cast save`) are never translated.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from bot import i18n
from bot.i18n import N_, NC_

# -- the machinery ---------------------------------------------------------------------------


class Stated(str):
    """A sentence that already says whether the user was charged (with_charge_note leaves it)."""

    __slots__ = ()


def _(message: str, **values: object) -> str:
    """`message` in the current locale, its %(name)s placeholders filled from `values`."""
    text = i18n.gettext(message)
    return text % values if values else text


def _n(singular: str, plural: str, n: int, **values: object) -> str:
    """The form of `singular`/`plural` the current locale uses for `n`; %(n)s is `n`."""
    return i18n.ngettext(singular, plural, n) % {"n": n, **values}


def _p(context: str, message: str) -> str:
    return i18n.pgettext(context, message)


def _text(name: str) -> str:
    """The constant `name` of _TEXTS in the current locale (with its context, if it has one)."""
    context = _CONTEXTS.get(name)
    return i18n.pgettext(context, _TEXTS[name]) if context else i18n.gettext(_TEXTS[name])


def _join(*sentences: str) -> str:
    """Sentences one after the other: with a space, except in Chinese and Japanese, whose full
    stop (。) already separates them."""
    sep = "" if i18n.current() in ("zh_CN", "ja") else " "
    return sep.join(s for s in sentences if s)


def _free(*sentences: str) -> Stated:
    """Sentences about a refusal, then "You were not charged."."""
    return Stated(_join(*sentences, _text("NOT_CHARGED")))


def _on_servers() -> bool:
    """Whether the community here is called a server (Discord) rather than a workspace
    (i18n.use_place): each sentence naming it has a msgid for each word."""
    return i18n.place() == "server"


def _labelled(label: str, value: str) -> str:
    """One line of figures or settings ("Today: 3 jobs, 5 images"), as the locale writes it."""
    # TRANSLATORS: a label and its value; keep the colon and spaces your language uses.
    return _p("a label and its value", "%(label)s: %(value)s") % {"label": label, "value": value}


def _list(items: list[str]) -> str:
    """A list of options or names, as the current locale separates them."""
    # TRANSLATORS: between the items of a list ("2K, 3K, 4K"); keep the spaces your language uses.
    return _p("list separator", ", ").join(items)


# Constants: NAME -> the English msgid. Read as `messages.NAME`, translated at that moment.
# Those in _FREE_TEXTS end with "You were not charged."; _STATED say it in their own words.
_TEXTS: dict[str, str] = {
    "NOT_CHARGED": N_("You were not charged."),
    "UNEXPECTED": N_("Sorry, something went wrong on our side. You were not charged; please try again."),
    "DELIVERY_FAILED": N_("The images were made but could not be posted here. You were not charged."),
    "DEMO_NOTICE": N_("Demo mode: no provider key is configured, so these are placeholder images."),
    "NOT_OWNER": N_("Only the person who made this image (or an admin) can do that."),
    "NOT_A_RESULT": N_(
        "That message isn't a seedbot result I can edit. Reply to one of my images, or attach images."
    ),
    "BUTTON_INACTIVE": N_("This button is no longer active. Ask again with /imagine."),
    "FORM_INACTIVE": N_("This form is no longer open. Open it again from the message."),
    "WAITING_FOR_PARENT": N_(
        "The image you replied to is still being made: I'll edit it as soon as it's ready."
    ),
    "PROMPT_EMPTY": N_("Please give a prompt: describe the image you want."),
    "IMAGE_NEEDS_WORDS": N_(
        "What should I do with the image? Send it again with words, e.g. `make it a watercolor` or "
        "`put it on a beach`."
    ),
    "SHUTTING_DOWN": N_("seedbot is restarting; please try again in a minute. You were not charged."),
    "RESTARTED_REFUNDED": N_(
        "seedbot restarted while this job was running and could not finish it. You were not charged."
    ),
    # chat adapters (shared wording for every platform)
    "STARTING": N_("Starting…"),
    "RESULT_ACTIONS": N_(
        "Re-roll it, make variations, or edit it with a new prompt. Reply in this thread to edit."
    ),
    "BUTTON_REROLL": N_("Re-roll"),
    "BUTTON_VARIATIONS": N_("Variations"),
    "BUTTON_EDIT": N_("Edit"),
    "EDIT_TITLE": N_("Edit image"),
    "EDIT_SUBMIT": NC_("a form's submit button", "Generate"),
    "EDIT_PROMPT_LABEL": N_("What should change?"),
    "EDIT_PROMPT_HINT": N_(
        "Describe the change. #2 edits only image 2 of a batch; flags like --ar 16:9 work too."
    ),
    "HOME_TITLE": N_("Your seedbot images"),
    "HOME_USAGE": N_("Your images"),
    "HOME_RECENT": N_("Your latest results"),
    "HOME_NEW": NC_("a button that opens the prompt form", "New image"),
    "HOME_OPEN": N_("Open"),
    "HOME_NO_RESULTS": N_("No results yet. Press New image, or mention me in a channel."),
    "PROMPT_TITLE": NC_("the title of the prompt form", "New image"),
    "PROMPT_SUBMIT": NC_("a form's submit button", "Generate"),
    "PROMPT_LABEL": N_("Describe the image"),
    "PROMPT_HINT": N_("The result comes to our direct messages. Flags like --ar 16:9 --n 2 work too."),
    "LABEL_ASPECT": N_("Aspect ratio"),
    "LABEL_COUNT": N_("How many"),
    "OPTION_DEFAULT": NC_("a menu choice: the workspace's default value", "Default"),
    # The side panel: a short status while a job runs ("seedbot is generating…"), a greeting.
    # TRANSLATORS: Slack shows it after the app's name: "seedbot is generating…".
    "ASSISTANT_STATUS": N_("is generating…"),
    "ASSISTANT_GREETING": N_(
        "Describe the image you want and I'll make it with Seedream. "
        "Reply here to change the latest one; flags like --ar 16:9 --n 2 work too."
    ),
    "SUGGESTED_PROMPTS_TITLE": N_("Try one of these"),
    # result details, buttons and commands
    "LABEL_MODEL": N_("Model"),
    "LABEL_SIZE": N_("Size"),
    "LABEL_PROVIDER": N_("Provider"),
    "LABEL_TIME": N_("Time"),
    "LABEL_LEFT_TODAY": N_("Images left today"),
    "LABEL_REFERENCES": N_("References"),
    "UNLIMITED": N_("unlimited"),
    "REFITTED": N_("Some images were re-encoded to fit this platform's upload limit."),
    "BUTTON_DELETE": N_("Delete"),
    "DELETED": N_("Deleted."),
    "RESUMES_AFTER_RESTART": N_(
        "seedbot is restarting. The image service is still working on this; "
        "the result will be posted here once seedbot is back."
    ),
    "CONTEXT_EDIT_NAME": N_("Edit with Seedream"),
    "EDIT_PROMPT_PLACEHOLDER": N_("Describe the change; flags like --ar 16:9 work too."),
    "COMMAND_IMAGINE": N_("Make images from a prompt; attach images to edit or combine them."),
    "COMMAND_EDIT": N_("Edit images with a prompt: the images you attach are the references, in order."),
    "COMMAND_USAGE": N_("How many images you have left today and this month, and when that resets."),
    "OPTION_PROMPT": N_("Describe the image. Flags work too: --ar 16:9 --res 3K --n 2"),
    "OPTION_IMAGE": N_("A reference image (image 1)"),
    "OPTION_ASPECT": N_("Aspect ratio, width:height"),
    "OPTION_RESOLUTION": N_("Resolution: 2K, 3K or 4K as the model offers, or an exact size like 2048x1536"),
    "OPTION_COUNT": N_("How many images to make (a Seedream sequential batch)"),
    "OPTION_MODEL": N_("Which Seedream model"),
    "OPTION_FORMAT": N_("Image format"),
    "OPTION_WATERMARK": N_("Ask for the image service's watermark"),
    # community: history, lineage, admin controls, stats
    "COMMAND_HISTORY": N_("Your last 10 jobs, newest first, with links to the results."),
    "COMMAND_ADMIN": N_("seedbot admin: quotas, server settings and stats."),
    "BUTTON_INFO": N_("Info"),
    "NO_HISTORY": N_("You haven't made any images yet."),
    "NOTHING_WORKING": N_("Nothing of yours is being made right now."),
    "NOT_ADMIN": N_(
        "Only admins can do that: the people who manage this server or workspace, or seedbot "
        "operators (SEEDBOT_ADMINS)."
    ),
    "NEEDS_WORKSPACE": N_("That works only inside a server or workspace, not in direct messages."),
    "NO_SUCH_JOB": N_("I can't find that job."),
    "OPTION_USER": N_("Whose quota"),
    "OPTION_DAILY": N_("Images per day"),
    "OPTION_MONTHLY": N_("Images per month"),
    "OPTION_EXTRA": N_("Extra images for today"),
    "OPTION_SETTING": N_("Which setting"),
    "OPTION_VALUE": N_("New value ('none' clears it; channels: a list of #channels)"),
    "USAGE_RESET": N_("Usage reset"),
    "BLOCKED_NOW": N_("Blocked"),
    "BLOCK_LIFTED": N_("Block lifted"),
    "PERIOD_TODAY": N_("Today"),
    "PERIOD_MONTH": N_("This month"),
    "EVERY_WORKSPACE": N_("every workspace"),
    "NONE": NC_("nothing in a list", "none"),
    # upscale and cancel
    "BUTTON_UPSCALE": N_("Upscale"),
    "BUTTON_CANCEL": N_("Cancel"),
    "UPSCALE_PLACEHOLDER": N_("Upscale an image to 4K…"),
    "CANCEL_FINISHED": N_("That job has already finished; there is nothing to cancel."),
    "CANCELLED_ALREADY": N_("That job is cancelled already."),
    "CANCEL_NOT_OWNER": N_("Only the person who asked for this image (or an admin) can cancel it."),
    # "cancel" or "upscale" typed alone, not as a reply, names no job: a note, not a refusal.
    "CANCEL_HOW": N_("To stop a job, press Cancel under it or reply `cancel` to it."),
    # TRANSLATORS: one item of the options list; keep "#N" as it is typed.
    "FLAG_PICK": N_("#N (pick image N)"),
    # TRANSLATORS: one item of the options list; keep "--ref NAME" as it is typed.
    "FLAG_REF": N_("--ref NAME (a saved cast image; several allowed)"),
    "UPSCALE_HOW": N_(
        "To upscale an image, press Upscale under the result or reply `upscale #2` to it (#2: which "
        "image of a batch)."
    ),
    # Thanks or praise as the whole message, or in a result's thread: people talking.
    "SMALL_TALK": N_(
        "Glad you like it! Nothing was made for that, and nothing was charged. Describe a picture "
        "to make one, or reply to a result with what to change."
    ),
    # "No", "wrong", 👎 as the whole message: the result missed; what would help instead.
    "MISSED": N_(
        "Sorry it missed. Reply to the result with what to change (`make the sky darker`, `#2 without "
        "the hat`), or with `again` for another try. Nothing was made for that, and nothing was charged."
    ),
    # "Animate it", "make a video of a cat": not something Seedream does.
    "NO_VIDEO": N_(
        "seedbot makes still images with Seedream: no video or animation. Describe a picture to make "
        "one, or reply to a result with what to change. Nothing was made for that, and nothing was charged."
    ),
    # "Describe this", "what's in this picture?" with an image: Seedream draws, it doesn't read.
    "NO_DESCRIBE": N_(
        "seedbot makes and edits images with Seedream; it can't describe one. Say what to change in it "
        "(`make it a watercolor`), or describe a new picture. Nothing was made for that, and nothing was charged."
    ),
    "NO_TRANSPARENCY": N_(
        "Seedream can't make a transparent background: every image it makes is opaque. Ask for a plain "
        "one instead (`on a plain white background`) and cut it out with a background remover. Nothing "
        "was made for that, and nothing was charged."
    ),
    "RIGHTS": N_(
        "Who may use these images, and how, is set by the terms of the image service this bot uses "
        "(Info under a result names it) and by the people who run this bot: please ask them. seedbot "
        "can't answer for them. Nothing was charged."
    ),
    "EDIT_HOW": N_(
        "What should change? Reply to the result with it (`make it night`, `#2 add a hat`), or send an "
        "image with the words."
    ),
    "SAVE_HOW": N_(
        "To keep an image, open it and download it: the file posted is the image as it was made (its "
        "details say when one had to be made smaller to fit). To use it in later prompts, reply "
        "`cast save NAME` to the result (`cast save NAME #2` for one of a batch). Nothing was charged."
    ),
    # style presets and the saved cast
    "OPTION_STYLE": N_("A style preset of this server (its prompt suffix and defaults)"),
    "OPTION_NO_STYLE": N_("No style"),
    "LABEL_STYLE": N_("Style"),
    "LABEL_CAST": N_("Saved cast images (names)"),
    "OPTION_REF": N_("Saved cast images to use as references, by name (comma-separated)"),
    "COMMAND_CAST": N_("Your saved cast of reference images"),
    "OPTION_CAST_NAME": N_("The name to keep it under (use it later with --ref NAME)"),
    "OPTION_CAST_IMAGE": N_("The image to save"),
    "OPTION_CAST_SERVER": N_("The server's cast instead of yours (admins)"),
    "OPTION_STYLE_SUFFIX": N_("Words added to the end of every prompt in this style"),
    "NO_STYLES": N_("There are no styles here yet. Admins add them with `admin style add NAME WORDS`."),
    "CAST_EMPTY": N_(
        "Your cast is empty. Save an image with `cast save NAME` on an attached image, or in a reply "
        "to one of my results (`cast save NAME #2` picks image 2)."
    ),
    "CAST_NEEDS_IMAGE": N_(
        "Attach the image to save (or reply to one of my results, with #N to pick one of a batch). "
        "Nothing was saved."
    ),
    "CAST_ONE_IMAGE": N_("Save one image at a time: pick it with #N. Nothing was saved."),
    "NOTHING_SAVED": N_("Nothing was saved."),
    "HELP_REPLIES": N_(
        "Reply to a result with what to change (`make it night`, `#2 add a hat`), or with `again`, "
        "`3 more`, `upscale #2`, `undo`. `status` shows what is being made for you; `surprise me` "
        "draws one of seedbot's own prompts."
    ),
    "UPSCALE_ONE_IMAGE": N_("Send one image at a time to upscale: each is its own 4K re-render."),
    "UNDO_HOW": N_(
        "Reply `undo` to one of my results to find the image it was made from: edits never replace it."
    ),
    "NOTHING_BEFORE": N_("This image was made from a prompt alone: there is no earlier image to go back to."),
    "UPSCALED_UPLOAD": N_("Made from: an upscale of an image you sent"),
    "STYLE_NEEDS_SUFFIX": N_(
        "A style needs words to add to prompts: `admin style add NAME WORDS [--ar W:H] [--res 2K] [--model 4.5]`."
    ),
    "STYLE_ONLY_DEFAULTS": N_("A style keeps words and, optionally, --ar, --res and --model; nothing else."),
    # why a value does not work for a flag or setting (the end of bad_flag_value/bad_setting_value)
    "HINT_ASPECT": N_("use W:H between 1:16 and 16:1, like 16:9"),
    "HINT_RESOLUTION": N_("use 2K, 3K, 4K or a size like 2048x2048"),
    "HINT_FORMAT": N_("use png or jpeg"),
    "HINT_ON_OFF": N_("on or off"),
    "HINT_JPEG_PNG": N_("jpeg or png"),
    "HINT_CHANNELS": N_("a list of channels"),
    "HINT_WHOLE_OR_NONE": N_("a whole number, or none"),
    "HINT_WHOLE": N_("a whole number"),
    "HINT_QUOTA_SET": N_("daily=N and/or monthly=N"),
    "HINT_MENTION": N_("mention someone, like @someone"),
    # TRANSLATORS: a channel typed by name in `admin settings channels`; keep `#` and `here`.
    "HINT_CHANNEL_LINK": N_(
        "pick the channel from the list that # opens, so it shows as a link, give its ID, or write `here` for this channel"
    ),
    # TRANSLATORS: `admin settings channels` in the playground, which has one channel; keep `here`.
    "HINT_PLAYGROUND_CHANNEL": N_("the playground has one channel: write `here`"),
    # TRANSLATORS: `here` typed in a direct message with the bot; keep `here` and `#`.
    "HINT_HERE_DIRECT": N_(
        "this conversation with me is not a channel: write `here` in the channel you mean, or pick it from the list that # opens"
    ),
    # a provider's answer that can't be used
    "RESULT_TOO_LARGE": N_("The image service returned an image too large to use."),
    "RESULT_UNREADABLE": N_("The image service returned something that isn't an image."),
    # why a download failed (the end of download_failed)
    "REASON_SCHEME": N_("only http(s) links work"),
    "REASON_NO_HOST": N_("the host could not be found"),
    "REASON_NOT_ALLOWED": N_("that address is not allowed"),
    "REASON_TOO_LARGE": N_("it is too large"),
    "REASON_REDIRECTS": N_("too many redirects"),
    "REASON_SLOW": N_("it took too long"),
    "REASON_CONNECTION": N_("the connection failed"),
    # why a provider can't serve a request (the reasons no_provider lists)
    "CANNOT_TEXT_TO_IMAGE": N_("edits only"),
    "CANNOT_EDIT": N_("text-to-image only"),
    "CANNOT_EXPLICIT_SIZE": N_("no explicit sizes"),
    "CANNOT_TIER_SIZE": N_("no tier sizes"),
    "CANNOT_BYTES": N_("references must be public URLs"),
    "CANNOT_NONE_CONFIGURED": N_("none configured"),
    # the web playground
    "WEB_SIGN_IN": N_("Enter the playground's token (SEEDBOT_WEB_TOKEN) to sign in."),
    "WEB_SIGN_IN_REFUSED": N_("That is not the playground's token."),
    "WEB_SIGN_IN_BUSY": N_("Too many sign-ins are being tried at once. Please try again in a minute."),
    "WEB_SESSION_NEEDED": N_("Sign in to the playground first: open its page and enter its token."),
    # No token is set: the page starts a session, and a restart forgets it.
    "WEB_SESSION_ENDED": N_("This page's session has ended (seedbot restarted): reload the page."),
    "WEB_STALE_PAGE": N_("This page is out of date. Reload it and try again. You were not charged."),
    "WEB_WRONG_HOST": N_("The playground answers only at its own loopback address (127.0.0.1 or localhost)."),
}

# Refusals that end with "You were not charged." (added in the reader's language).
_FREE_TEXTS: dict[str, str] = {
    "BLOCKED": N_("You can't use seedbot here: an admin has blocked your account."),
    "PARENT_NOT_READY": N_("The image you replied to is still being made. Reply again once it is posted."),
    "STILL_POSTING": N_("This result is still being posted. Delete it once all of it is here."),
    "PARENT_FAILED": N_(
        "The image you replied to could not be made, so there is nothing to edit. Send a new request instead."
    ),
    "RESULT_EXPIRED": N_(
        "I no longer keep the images of that result: images are kept for a limited time. "
        "Save it and attach it to a new request to edit it."
    ),
    "REFERENCES_EXPIRED": N_(
        "I no longer keep the images that request used: images are kept for a limited time. "
        "Attach them to a new request to run it again."
    ),
    "NOT_IN_CHANNEL": N_(
        "I can't post in this conversation. Add me to the channel (or message me directly), then try again."
    ),
    "NO_IMAGES_IN_MESSAGE": N_("That message has no images I can use. Pick one with image attachments."),
    "CANNOT_POST_HERE": N_(
        "I'm missing permission to post images here (Send Messages, Attach Files, Embed Links). "
        "Ask an admin, or message me directly."
    ),
    "CHANNEL_NOT_ALLOWED": N_(
        "seedbot isn't enabled in this channel: an admin has limited it to other channels."
    ),
    "UPSCALE_NO_4K": N_(
        "Upscaling needs a host that renders Seedream 4.5 at 4K, and none is set up here. "
        "Ask the bot's operator to add one (fal, Replicate, Ark or Novita)."
    ),
    "CANCEL_ELSEWHERE": N_("That job is finishing in another process and can't be cancelled now."),
}

# Constants whose own words say whether anything was charged.
_STATED = {
    "NOT_CHARGED",
    "UNEXPECTED",
    "DELIVERY_FAILED",
    "SHUTTING_DOWN",
    "RESTARTED_REFUNDED",
    "WEB_STALE_PAGE",
}

# The words of seedbot's own the model is sent, never shown to be translated: what the 4.5
# model is asked for in an upscale (the reference, unchanged, at 4K).
UPSCALE_PROMPT = (
    "Reproduce image 1 exactly as it is, at higher resolution: keep the same composition, subjects, "
    "colours, lighting, text and every detail unchanged; only sharpen and add fine detail."
)

# ... and in variations of an image the person sent ("variations", "4 versions of this").
VARIATIONS_PROMPT = (
    "A new variation of image 1: the same subject, style and mood, with a fresh composition, pose "
    "and details."
)

# ... and what "surprise me" draws: one of these, at random (the flags typed with it still apply).
SURPRISES = (
    "a red fox curled up asleep in fresh snow at golden hour, soft backlight, shallow depth of field",
    "a lighthouse on a cliff in a storm at night, waves crashing, a single warm window, cinematic",
    "a cozy isometric reading nook with plants and warm lamp light, soft 3D render",
    'a retro travel poster of Kyoto in spring, flat colors, bold title text "KYOTO"',
    "an astronaut tending a small vegetable garden on the moon, Earth rising behind, watercolor",
    "a steaming bowl of ramen on a wooden counter in a tiny neon-lit shop, rainy night outside",
    "a paper-cut diorama of a whale swimming through clouds above a sleeping town",
    "a glass perfume bottle on wet black stone, studio lighting, water droplets, macro photo",
    "a tiny dragon reading a book by candlelight in a library, storybook illustration",
    "a vintage bicycle with a basket of sunflowers leaning on a blue door in Lisbon, film photo",
    "a snow-covered mountain cabin under the northern lights, long exposure photograph",
    "a robot barista making latte art in a sunny cafe, Pixar-style 3D",
)

# The side panel's suggested prompts: (title, the prompt sent). The titles are seedbot's words,
# translated; the prompts are sent to Seedream as they are.
_SUGGESTED = (
    (
        N_("Fox in the snow"),
        "a red fox in fresh snow at golden hour, soft backlight, shallow depth of field --ar 3:2",
    ),
    (
        N_("Product shot"),
        "a glass perfume bottle on wet black stone, studio lighting, water droplets, macro photo --ar 4:5",
    ),
    (
        N_("Travel poster"),
        'a retro travel poster of Kyoto in spring, flat colors, bold title text "KYOTO" --ar 2:3',
    ),
    # and one that leaves the picture to seedbot (messages.SURPRISES)
    (N_("Surprise me"), "surprise me"),
)

# mypy sees the constants as plain strings; at run time __getattr__ reads them in the current locale.
NOT_CHARGED: str
UNEXPECTED: str
DELIVERY_FAILED: str
DEMO_NOTICE: str
NOT_OWNER: str
NOT_A_RESULT: str
BUTTON_INACTIVE: str
FORM_INACTIVE: str
WAITING_FOR_PARENT: str
PROMPT_EMPTY: str
SHUTTING_DOWN: str
RESTARTED_REFUNDED: str
STARTING: str
RESULT_ACTIONS: str
BUTTON_REROLL: str
BUTTON_VARIATIONS: str
BUTTON_EDIT: str
EDIT_TITLE: str
EDIT_SUBMIT: str
EDIT_PROMPT_LABEL: str
EDIT_PROMPT_HINT: str
HOME_TITLE: str
HOME_USAGE: str
HOME_RECENT: str
HOME_NEW: str
HOME_OPEN: str
HOME_NO_RESULTS: str
PROMPT_TITLE: str
PROMPT_SUBMIT: str
PROMPT_LABEL: str
PROMPT_HINT: str
LABEL_ASPECT: str
LABEL_COUNT: str
OPTION_DEFAULT: str
ASSISTANT_STATUS: str
ASSISTANT_GREETING: str
SUGGESTED_PROMPTS_TITLE: str
LABEL_MODEL: str
LABEL_SIZE: str
LABEL_PROVIDER: str
LABEL_TIME: str
LABEL_LEFT_TODAY: str
LABEL_REFERENCES: str
UNLIMITED: str
REFITTED: str
BUTTON_DELETE: str
DELETED: str
RESUMES_AFTER_RESTART: str
CONTEXT_EDIT_NAME: str
EDIT_PROMPT_PLACEHOLDER: str
COMMAND_IMAGINE: str
COMMAND_EDIT: str
COMMAND_USAGE: str
OPTION_PROMPT: str
OPTION_IMAGE: str
OPTION_ASPECT: str
OPTION_RESOLUTION: str
OPTION_COUNT: str
OPTION_MODEL: str
OPTION_FORMAT: str
OPTION_WATERMARK: str
COMMAND_HISTORY: str
COMMAND_ADMIN: str
BUTTON_INFO: str
NO_HISTORY: str
NOTHING_SAVED: str
NOTHING_BEFORE: str
UNDO_HOW: str
UPSCALE_ONE_IMAGE: str
HELP_REPLIES: str
UPSCALED_UPLOAD: str
IMAGE_NEEDS_WORDS: str
NOTHING_WORKING: str
NOT_ADMIN: str
NEEDS_WORKSPACE: str
NO_SUCH_JOB: str
OPTION_USER: str
OPTION_DAILY: str
OPTION_MONTHLY: str
OPTION_EXTRA: str
OPTION_SETTING: str
OPTION_VALUE: str
USAGE_RESET: str
BLOCKED_NOW: str
BLOCK_LIFTED: str
PERIOD_TODAY: str
PERIOD_MONTH: str
EVERY_WORKSPACE: str
NONE: str
BUTTON_UPSCALE: str
BUTTON_CANCEL: str
UPSCALE_PLACEHOLDER: str
CANCELLED_ALREADY: str
CANCEL_FINISHED: str
CANCEL_NOT_OWNER: str
OPTION_STYLE: str
OPTION_NO_STYLE: str
LABEL_STYLE: str
LABEL_CAST: str
OPTION_REF: str
COMMAND_CAST: str
OPTION_CAST_NAME: str
OPTION_CAST_IMAGE: str
OPTION_CAST_SERVER: str
OPTION_STYLE_SUFFIX: str
NO_STYLES: str
CAST_EMPTY: str
CAST_NEEDS_IMAGE: str
CAST_ONE_IMAGE: str
STYLE_NEEDS_SUFFIX: str
STYLE_ONLY_DEFAULTS: str
HINT_ASPECT: str
HINT_RESOLUTION: str
HINT_FORMAT: str
HINT_ON_OFF: str
HINT_JPEG_PNG: str
HINT_CHANNELS: str
HINT_WHOLE_OR_NONE: str
HINT_WHOLE: str
HINT_QUOTA_SET: str
HINT_MENTION: str
HINT_CHANNEL_LINK: str
HINT_PLAYGROUND_CHANNEL: str
HINT_HERE_DIRECT: str
RESULT_TOO_LARGE: str
RESULT_UNREADABLE: str
REASON_SCHEME: str
REASON_NO_HOST: str
REASON_NOT_ALLOWED: str
REASON_TOO_LARGE: str
REASON_REDIRECTS: str
REASON_SLOW: str
REASON_CONNECTION: str
CANNOT_TEXT_TO_IMAGE: str
CANNOT_EDIT: str
CANNOT_EXPLICIT_SIZE: str
CANNOT_TIER_SIZE: str
CANNOT_BYTES: str
CANNOT_NONE_CONFIGURED: str
WEB_SIGN_IN: str
WEB_SIGN_IN_REFUSED: str
WEB_SIGN_IN_BUSY: str
WEB_SESSION_NEEDED: str
WEB_SESSION_ENDED: str
WEB_STALE_PAGE: str
WEB_WRONG_HOST: str
BLOCKED: str
PARENT_NOT_READY: str
STILL_POSTING: str
PARENT_FAILED: str
RESULT_EXPIRED: str
REFERENCES_EXPIRED: str
NOT_IN_CHANNEL: str
NO_IMAGES_IN_MESSAGE: str
CANNOT_POST_HERE: str
CHANNEL_NOT_ALLOWED: str
UPSCALE_NO_4K: str
CANCEL_ELSEWHERE: str
CANCEL_HOW: str
FLAG_PICK: str
FLAG_REF: str
UPSCALE_HOW: str
SMALL_TALK: str
MISSED: str
NO_VIDEO: str
NO_DESCRIBE: str
SAVE_HOW: str
EDIT_HOW: str
RIGHTS: str
NO_TRANSPARENCY: str
SUGGESTED_PROMPTS: tuple[tuple[str, str], ...]

CONSTANTS = (*_TEXTS, *_FREE_TEXTS)  # every translated constant's name (the tests read each)


def __getattr__(name: str) -> object:
    if name in _FREE_TEXTS:
        return _free(i18n.gettext(_FREE_TEXTS[name]))
    if name in _TEXTS:
        text = _text(name)
        return Stated(text) if name in _STATED else text
    if name == "SUGGESTED_PROMPTS":
        return tuple((i18n.gettext(title), prompt) for title, prompt in _SUGGESTED)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The constants marked NC_ above: read with their context (the same English word, two uses).
_CONTEXTS = {
    "EDIT_SUBMIT": "a form's submit button",
    "PROMPT_SUBMIT": "a form's submit button",
    "HOME_NEW": "a button that opens the prompt form",
    "PROMPT_TITLE": "the title of the prompt form",
    "OPTION_DEFAULT": "a menu choice: the workspace's default value",
    "NONE": "nothing in a list",
}


# -- counts ------------------------------------------------------------------------------------


def image_count(n: int) -> str:
    """ "1 image", "3 images", in the current locale."""
    return _n("%(n)s image", "%(n)s images", n)


def extra_images(n: int) -> str:
    return _n("%(n)s extra image", "%(n)s extra images", n)


def jobs(n: int) -> str:
    return _n("%(n)s job", "%(n)s jobs", n)


# -- restarts and streaming --------------------------------------------------------------------


def streaming(shown: int, of: int) -> str:
    """Under a batch whose images arrive one by one."""
    return _n(
        "%(n)s image of %(of)s here; the others are on their way.",
        "%(n)s images of %(of)s here; the others are on their way.",
        shown,
        of=of,
    )


def restarted_partial(delivered: int, requested: int) -> str:
    """A batch cut short by a restart (streamed, or posted in several messages): what came
    stays, the rest is refunded."""
    if delivered >= requested:  # all of it was up; the restart came before the job closed
        return Stated(
            _n(
                "seedbot restarted while posting %(n)s image: it reached you and was charged.",
                "seedbot restarted while posting %(n)s images: all of them reached you and were charged.",
                delivered,
            )
        )
    # Two sentences: each count chooses its own plural form ("the other 1 were" was said).
    reached = _n(
        "seedbot restarted while making your images: %(n)s of %(requested)s reached you and was charged.",
        "seedbot restarted while making your images: %(n)s of %(requested)s reached you and were charged.",
        delivered,
        requested=requested,
    )
    missing = _n(  # not made, or made and not posted: refunded either way
        "You were not charged for the other %(n)s.",
        "You were not charged for the other %(n)s.",
        requested - delivered,
    )
    return Stated(_join(reached, missing))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# -- quotas ----------------------------------------------------------------------------------


def _limit_name(scope: str, limit: int) -> str:
    if scope == "pool" and not _on_servers():
        return _n(
            "this workspace's shared pool for today (%(n)s image)",
            "this workspace's shared pool for today (%(n)s images)",
            limit,
        )
    if scope == "pool":
        return _n(
            "this server's shared pool for today (%(n)s image)",
            "this server's shared pool for today (%(n)s images)",
            limit,
        )
    if scope == "monthly":
        return _n("your monthly limit (%(n)s image)", "your monthly limit (%(n)s images)", limit)
    return _n("your daily limit (%(n)s image)", "your daily limit (%(n)s images)", limit)


def _used_up(scope: str, limit: int, when: str) -> str:
    if scope == "pool" and not _on_servers():
        return _n(
            "This workspace's shared pool for today (%(n)s image) is used up; it resets at %(when)s.",
            "This workspace's shared pool for today (%(n)s images) is used up; it resets at %(when)s.",
            limit,
            when=when,
        )
    if scope == "pool":
        return _n(
            "This server's shared pool for today (%(n)s image) is used up; it resets at %(when)s.",
            "This server's shared pool for today (%(n)s images) is used up; it resets at %(when)s.",
            limit,
            when=when,
        )
    if scope == "monthly":
        return _n(
            "Your monthly limit (%(n)s image) is used up; it resets at %(when)s.",
            "Your monthly limit (%(n)s images) is used up; it resets at %(when)s.",
            limit,
            when=when,
        )
    return _n(
        "Your daily limit (%(n)s image) is used up; it resets at %(when)s.",
        "Your daily limit (%(n)s images) is used up; it resets at %(when)s.",
        limit,
        when=when,
    )


def quota_exceeded(
    scope: str,
    limit: int,
    used: int,
    resets_at: datetime,
    asked: int | None = None,
    *,
    images: int | None = None,
) -> str:
    """A refused reservation: which limit (`scope`: daily, monthly, or the pool of the server or
    workspace), what the request counts (`asked` units; `images` when a resolution
    weight makes the number of images differ), what is left and when it resets."""
    left = max(0, limit - used)
    when = _when(resets_at)
    if left == 0:  # used up: nothing this size or smaller would pass
        return _free(_used_up(scope, limit, when))
    which = _limit_name(scope, limit)
    only = _n("only %(n)s is left of %(which)s", "only %(n)s are left of %(which)s", left, which=which)
    weight = asked // images if asked and images else 1
    if weight > 1 and asked and images:
        fits = left // weight
        fewer = (
            _n(
                "at most %(n)s at this resolution or a smaller one",
                "at most %(n)s at this resolution or a smaller one",
                fits,
            )
            if fits
            else _("a smaller resolution")
        )
        return _free(
            _(
                "This request counts as %(asked)s (%(images)s at a resolution that counts %(weight)s "
                "each), but %(only)s. Ask for %(fewer)s, or wait: it resets at %(when)s.",
                asked=image_count(asked),
                images=image_count(images),
                weight=weight,
                only=only,
                fewer=fewer,
                when=when,
            )
        )
    if asked:
        return _free(
            _(
                "You asked for %(asked)s, but %(only)s. Ask for at most %(left)s, or wait: it resets at %(when)s.",
                asked=image_count(asked),
                only=only,
                left=left,
                when=when,
            )
        )
    return _free(
        _n(
            "Only %(n)s is left of %(which)s. Ask for at most %(n)s, or wait: it resets at %(when)s.",
            "Only %(n)s are left of %(which)s. Ask for at most %(n)s, or wait: it resets at %(when)s.",
            left,
            which=which,
            when=when,
        )
    )


def no_provider(reason: str) -> str:
    return _free(_("No image provider can take this request right now (%(reason)s).", reason=reason))


_UNAVAILABLE = "unavailable"  # the kind whose words stand for any kind not listed
_PROVIDER_TEXT = {
    "auth": N_("The image service rejected our credentials; an admin has to fix the API key."),
    "no_credits": N_("The image service account is out of credits; an admin has to top it up."),
    "rate_limited": N_("The image service is busy (rate limited). Please try again in a minute."),
    "moderation": N_(
        "The image service refused this prompt or image under its content policy. Reword it and send it "
        "again: a real person's name or a word it flags can be refused even in a harmless prompt."
    ),
    "bad_request": N_("The image service could not take this request as given."),
    "unavailable": N_("The image service is unavailable right now. Please try again later."),
    "timeout": N_("The image service took too long to answer."),
}


def provider_failed(kind: str, *, charged: bool = False) -> str:
    """`kind` is a ProviderErrorKind value; `charged`: images of a streamed batch were shown
    before it failed (they stay, and count)."""
    text = i18n.gettext(_PROVIDER_TEXT.get(kind) or _PROVIDER_TEXT[_UNAVAILABLE])
    return with_charge_note(text, charged) if charged else _free(text)


# Why a provider can't serve a request (the reasons no_provider lists).
def cannot_model(model: str) -> str:
    return _("no %(model)s", model=model)


def cannot_count(limit: int) -> str:
    return _n("at most %(n)s image", "at most %(n)s images", limit)


def cannot_references(limit: int) -> str:
    return _n("at most %(n)s reference", "at most %(n)s references", limit)


def cannot_aspect(aspect: str) -> str:
    return _("no %(aspect)s aspect ratio", aspect=aspect)


def cannot_format(fmt: str) -> str:
    return _("no %(format)s output", format=fmt)


def cannot_prompt(limit: int) -> str:
    return _n("prompts up to %(n)s character", "prompts up to %(n)s characters", limit)


def provider_not_set_up(provider: str, why: str) -> str:
    return _("%(provider)s is not set up: %(why)s", provider=provider, why=why)


def unknown_provider(name: str, known: list[str]) -> str:
    return _("There is no provider called '%(name)s'; choose from %(known)s.", name=name, known=_list(known))


# -- validation ---------------------------------------------------------------------------


def prompt_too_long(length: int, limit: int) -> str:
    return _free(
        _n(
            "Your prompt is %(n)s character; the limit is %(limit)s. Please shorten it.",
            "Your prompt is %(n)s characters; the limit is %(limit)s. Please shorten it.",
            length,
            limit=limit,
        )
    )


def unknown_model(name: str, known: list[str]) -> str:
    return _("There is no model called '%(name)s'. Choose one of: %(known)s.", name=name, known=_list(known))


def bad_count(count: int, limit: int) -> str:
    return _n(
        "You can ask for 1 to %(n)s image at a time, not %(count)s.",
        "You can ask for 1 to %(n)s images at a time, not %(count)s.",
        limit,
        count=count,
    )


def too_many_references(count: int, limit: int) -> str:
    return _n(
        "You gave %(count)s images; Seedream takes at most %(n)s reference image.",
        "You gave %(count)s images; Seedream takes at most %(n)s reference images.",
        limit,
        count=count,
    )


def references_plus_outputs(refs: int, count: int, limit: int) -> str:
    return _(
        "%(refs)s plus %(new)s is more than Seedream's limit of %(limit)s in one request. "
        "Ask for at most %(most)s.",
        refs=_n("%(n)s reference image", "%(n)s reference images", refs),
        new=_n("%(n)s new image", "%(n)s new images", count),
        limit=limit,
        most=max(1, limit - refs),
    )


def bad_resolution(value: str, model: str, tiers: list[str]) -> str:
    return _(
        "%(model)s offers %(tiers)s (or an explicit size like 2048x2048), not '%(value)s'.",
        model=model,
        tiers=_list(tiers),
        value=value,
    )


def another_model_can(refusal: str, model: str, key: str) -> str:
    """A model's refusal, then the other model that would make the request as it is."""
    return _join(refusal, _("%(model)s can make it: add `--model %(key)s`.", model=model, key=key))


def bad_aspect(value: str) -> str:
    return _(
        "'%(value)s' is not an aspect ratio I can use: give W:H between 1:16 and 16:1, like 16:9.",
        value=value,
    )


def size_out_of_range(
    width: int, height: int, model: str, low: int, high: int, shape: tuple[str, str] | None = None
) -> str:
    """`shape`: for a size too small, the ratio ("16:9") that makes its shape and the size made."""
    said = _(
        "%(width)sx%(height)s is %(pixels)s pixels; %(model)s makes images of "
        "%(low)s to %(high)s pixels with sides in a ratio from 1:16 to 16:1.",
        width=width,
        height=height,
        pixels=i18n.number(width * height),
        model=model,
        low=i18n.number(low),
        high=i18n.number(high),
    )
    if shape is None:
        return said
    ratio, size = shape
    return _join(said, _("For that shape, `--ar %(ratio)s` makes %(size)s.", ratio=ratio, size=size))


def bad_output_format(value: str, model: str, formats: list[str]) -> str:
    return _(
        "%(model)s can return %(formats)s, not '%(value)s'.", model=model, formats=_list(formats), value=value
    )


def bad_optimize(value: str, model: str, modes: list[str]) -> str:
    return _(
        "%(model)s supports prompt optimisation mode %(modes)s, not '%(value)s'.",
        model=model,
        modes=_list(modes),
        value=value,
    )


def not_an_image(name: str) -> str:
    return _free(
        _("'%(name)s' is not an image I can read (JPEG, PNG, WebP, HEIC, AVIF, BMP, TIFF or GIF).", name=name)
    )


def image_too_large(name: str, size: int, limit: int) -> str:
    return _(
        "'%(name)s' is %(size)s MB; each image may be at most %(limit)s MB.",
        name=name,
        size=i18n.decimal(size / 1_000_000),
        limit=limit // 1_000_000,
    )


def image_too_many_pixels(name: str, width: int, height: int, limit: int) -> str:
    return _(
        "'%(name)s' is %(width)sx%(height)s; each side may be at most %(limit)s pixels.",
        name=name,
        width=width,
        height=height,
        limit=limit,
    )


def image_too_small(name: str, width: int, height: int, least: int) -> str:
    return _(
        "'%(name)s' is %(width)sx%(height)s; each side must be at least %(least)s pixels.",
        name=name,
        width=width,
        height=height,
        least=least,
    )


def image_bad_ratio(name: str, width: int, height: int) -> str:
    return _(
        "'%(name)s' is %(width)sx%(height)s; its sides must be within a ratio of 1:16.",
        name=name,
        width=width,
        height=height,
    )


def image_unreadable(name: str) -> str:
    return _free(_("'%(name)s' looks damaged or is too large to decode.", name=name))


def download_failed(name: str, reason: str) -> str:
    return _free(_("I couldn't fetch '%(name)s': %(reason)s.", name=name, reason=reason))


def server_answered(status: int) -> str:
    """Why a download failed: the HTTP status."""
    return _("the server answered %(status)s", status=status)


def unknown_flag(flag: str, known: list[str], close: list[str] | None = None) -> str:
    """`close`: the options `flag` looks like a typo of; said instead of the whole list."""
    if close:
        return _join(_("I don't know the option '%(flag)s'.", flag=flag), _close(close))
    return _("I don't know the option '%(flag)s'. Options: %(known)s.", flag=flag, known=_list(known))


_ECHO_MAX = 600  # a longer message is not said back: the names alone say what to take out


def other_models_settings(settings: list[str], without: str, *, negative: bool = False) -> str:
    """Other models' settings in a prompt (request/other_models.py): all of them at once, then
    what to send; `negative`: one of them was a negative prompt."""
    said = _n(
        "Seedream has no %(settings)s: that is another image model's setting.",
        "Seedream has no %(settings)s: those are other image models' settings.",
        len(settings),
        settings=_list(settings),
    )
    if negative:
        said = _join(said, _('To leave something out, say so in the prompt ("without text").'))
    if without.strip("` ") and len(without) <= _ECHO_MAX:
        said = _join(said, _("Send it like this: %(text)s.", text=f"`{without.replace('`', '')}`"))
    return said


def flag_needs_value(flag: str, example: str) -> str:
    """A flag typed last, with nothing after it ("a cat --ar")."""
    return _("Add a value after %(flag)s, e.g. %(example)s.", flag=flag, example=f"`{example}`")


def bad_flag_value(flag: str, value: str, hint: str) -> str:
    return _("'%(value)s' doesn't work for %(flag)s: %(hint)s.", value=value, flag=flag, hint=hint)


def hint_number(low: int, high: int) -> str:
    return _("give a number from %(low)s to %(high)s", low=low, high=high)


def no_such_image(pick: int, count: int) -> str:
    """#N past the end of a result: say which numbers it has."""
    if count == 1:
        return _("That result has one image, so there is no #%(pick)s.", pick=pick)
    return _(
        "That result has %(count)s images, so there is no #%(pick)s: pick #1 to #%(count)s.",
        pick=pick,
        count=count,
    )


def pick_needs_words(pick: int) -> str:
    """A reply that picks an image ("#2", "2") but says nothing to change in it."""
    return _(
        "What should change in image %(pick)s? Reply with it (`#%(pick)s make it night`), or "
        "`upscale #%(pick)s` for a 4K version.",
        pick=pick,
    )


def hint_tiers(tiers: list[str]) -> str:
    return _("one of %(tiers)s or WxH", tiers=_list(tiers))


def hint_one_of(choices: list[str]) -> str:
    return _("one of: %(choices)s", choices=_list(choices))


def hint_batch(limit: int) -> str:
    return _("a number from 1 to %(limit)s", limit=limit)


# -- quotas and progress --------------------------------------------------------------------


def usage_summary(
    *,
    unlimited: bool,
    day_used: int,
    day_limit: int | None,
    month_used: int,
    month_limit: int | None,
    day_resets: datetime,
    month_resets: datetime,
    granted: int = 0,
) -> str:
    if unlimited:
        return _(
            "You have unlimited images (admin). Used today: %(day)s, this month: %(month)s.",
            day=day_used,
            month=month_used,
        )
    unlimited_word = _text("UNLIMITED")
    day_left = (
        unlimited_word
        if day_limit is None
        else _("%(left)s of %(limit)s", left=max(0, day_limit - day_used), limit=day_limit)
    )
    month_left = (
        unlimited_word
        if month_limit is None
        else _("%(left)s of %(limit)s", left=max(0, month_limit - month_used), limit=month_limit)
    )
    day_line = (
        _n(
            "Images left today: %(left)s (resets %(when)s, including %(n)s extra granted for today).",
            "Images left today: %(left)s (resets %(when)s, including %(n)s extra granted for today).",
            granted,
            left=day_left,
            when=_when(day_resets),
        )
        if granted
        else _("Images left today: %(left)s (resets %(when)s).", left=day_left, when=_when(day_resets))
    )
    return "\n".join(
        [
            day_line,
            _(
                "Images left this month: %(left)s (resets %(when)s).",
                left=month_left,
                when=_when(month_resets),
            ),
            _("Used today: %(day)s; this month: %(month)s.", day=day_used, month=month_used),
        ]
    )


def queued(position: int) -> str:
    # TRANSLATORS: keep "#%(position)s": the playground reads the number after "#".
    return _("Queued: you are #%(position)s in line.", position=position)


def progress_bar(percent: float, width: int = 12) -> str:
    filled = round(max(0.0, min(100.0, percent)) / 100 * width)
    return "█" * filled + "░" * (width - filled)


def running(elapsed: float, percent: float | None) -> str:
    base = _("Generating… %(seconds)s", seconds=seconds(elapsed, 0))
    if percent is None:
        return base
    return f"{base}  {progress_bar(percent)} {percent:.0f}%"


def partial_delivery(got: int, asked: int, weight: int = 1) -> str:
    if weight == 1:
        return _n(
            "The image service returned %(n)s of %(asked)s images; you were charged only for the "
            "%(n)s image delivered.",
            "The image service returned %(n)s of %(asked)s images; you were charged only for the "
            "%(n)s images delivered.",
            got,
            asked=asked,
        )
    return _n(
        "The image service returned %(n)s of %(asked)s images; you were charged only for the "
        "%(n)s image delivered (%(units)s of your quota).",
        "The image service returned %(n)s of %(asked)s images; you were charged only for the "
        "%(n)s images delivered (%(units)s of your quota).",
        got,
        asked=asked,
        units=got * weight,
    )


def not_posted(posted: int, made: int, weight: int = 1) -> str:
    if weight == 1:
        return _n(
            "Only %(n)s of the %(made)s images could be posted here; you were charged only for "
            "the %(n)s image posted.",
            "Only %(n)s of the %(made)s images could be posted here; you were charged only for "
            "the %(n)s images posted.",
            posted,
            made=made,
        )
    return _n(
        "Only %(n)s of the %(made)s images could be posted here; you were charged only for "
        "the %(n)s image posted (%(units)s of your quota).",
        "Only %(n)s of the %(made)s images could be posted here; you were charged only for "
        "the %(n)s images posted (%(units)s of your quota).",
        posted,
        made=made,
        units=posted * weight,
    )


def image_label(n: int) -> str:
    """How a reference without a file name is named ("image 2")."""
    return _("image %(n)s", n=n)


def references_legend(names: list[str]) -> str:
    # TRANSLATORS: between the items of a list that may hold commas ("image 1 = a.png; image 2 = b.png").
    return _p("list separator", "; ").join(
        _("image %(n)s = %(name)s", n=i, name=name) for i, name in enumerate(names, start=1)
    )


def result_caption(
    *,
    prompt: str,
    model_name: str,
    size: str,
    provider: str,
    elapsed: float,
    left: int | None,
    delivered: int,
    requested: int,
    demo: bool = False,
    refitted: bool = False,
    legend: str = "",
    weight: int = 1,
    unmarked: bool = False,
) -> str:
    """The few lines under a result: what was made, how, and what the user has left."""
    short = prompt if len(prompt) <= 300 else prompt[:297] + "…"
    lines = [short, f"{model_name} · {size} · {provider} · {seconds(elapsed)}"]
    if legend:
        lines.append(legend)
    if delivered < requested:
        lines.append(partial_delivery(delivered, requested, weight))
    elif weight != 1:
        lines.append(charged_line(delivered * weight))
    if refitted:
        lines.append(_text("REFITTED"))
    if unmarked:
        lines.append(no_watermark(provider))
    if left is not None:
        lines.append(left_today(left))
    if demo:
        lines.append(_text("DEMO_NOTICE"))
    return "\n".join(lines)


def left_today(left: int) -> str:
    return _("Images left today: %(left)s.", left=left)


def home_result_line(when: str, prompt: str, images: int) -> str:
    """One past result on a person's home page (the link to it follows)."""
    return f"{when} · {_one_line(prompt, 200)} · {image_count(images)}"


def made_from_still_there(where: str) -> str:
    """ "undo" replied to an edit (or a re-roll): the image it was made from is unchanged;
    `where` links it, or is its job id where a surface has no links."""
    return _(
        "Nothing to undo: the image this one was made from is still there, unchanged (%(where)s). "
        "Reply to it to try another change.",
        where=where,
    )


def nothing_saved(text: str) -> str:
    """A refused `cast save`, saying that nothing was saved (once)."""
    said = _text("NOTHING_SAVED")
    return text if said in text else _join(text, said)


def with_charge_note(text: str, charged: bool = False) -> str:
    """An error sentence that always says whether the user was charged."""
    if isinstance(text, Stated):
        return text
    if charged:
        return Stated(_join(text, _("You were charged for what was delivered.")))
    return _free(text)


def asked_for(who: str, prompt: str) -> str:
    """The public line a command posts before working in its thread."""
    return _("%(who)s asked for: %(prompt)s", who=who, prompt=prompt)


def only_operators_give(daily: int, monthly: int) -> str:
    """A server admin's quota change that gives more than the bot's limits (a quota counts on
    every server, paid by seedbot's operator)."""
    return _(
        "A quota counts on every server, so only seedbot's operators can give more images than "
        "its limits (%(daily)s a day, %(monthly)s a month) or undo a day's use. Here you can set "
        "lower limits, block and unblock.",
        daily=daily,
        monthly=monthly,
    )


def workflow_asked_for(who: str, prompt: str) -> str:
    """asked_for of a workflow run that named the person without their click to show for it."""
    return _("A workflow asked for this for %(who)s: %(prompt)s", who=who, prompt=prompt)


def help_text(command: str, options: list[str]) -> str:
    return _(
        "Describe the image you want, e.g. `%(command)s a red fox in snow --ar 3:2 --n 2`.\n"
        "Options: %(options)s.\n"
        "Mention me with images attached to edit them or combine them; reply in my thread to edit "
        "the latest result. `%(command)s usage` shows how many images you have left.",
        command=command,
        options=_list(options),
    )


def file_not_hosted(name: str) -> str:
    return _free(
        _("I only read files uploaded to this workspace, and '%(name)s' is hosted elsewhere.", name=name)
    )


def file_not_visible(name: str) -> str:
    """A file of this Slack (linked, or shared from elsewhere) that files.info would not show."""
    return _free(
        _(
            "I can't see the file '%(name)s': attach it to your message, or share it in a channel I'm in.",
            name=name,
        )
    )


def file_access_denied(name: str) -> str:
    return _free(
        _(
            "I couldn't read '%(name)s': I was shown a sign-in page instead of the file, so the app "
            "is probably missing permission to read files (an admin has to reinstall it).",
            name=name,
        )
    )


# -- result details, buttons and commands (any platform with fields, buttons and forms) -------


def option_more_image(n: int) -> str:
    """A command option's description: another reference image."""
    return _("Another reference image (image %(n)s)", n=n)


def seconds(elapsed: float, digits: int = 1) -> str:
    """A duration in seconds ("12.3s")."""
    # TRANSLATORS: a duration in seconds, abbreviated ("12.3s").
    return _("%(seconds)ss", seconds=i18n.decimal(elapsed, digits))


def result_notes(
    *,
    delivered: int,
    requested: int,
    refitted: bool = False,
    demo: bool = False,
    legend: str = "",
    weight: int = 1,
    unmarked_by: str | None = None,
) -> list[str]:
    """The remarks under a result, for platforms that show the details as labelled fields;
    `unmarked_by`: the host that made it without the watermark asked for."""
    notes = [legend] if legend else []
    if delivered < requested:
        notes.append(partial_delivery(delivered, requested, weight))
    elif weight != 1:
        notes.append(charged_line(delivered * weight))
    if refitted:
        notes.append(_text("REFITTED"))
    if unmarked_by:
        notes.append(no_watermark(unmarked_by))
    if demo:
        notes.append(_text("DEMO_NOTICE"))
    return notes


def no_watermark(provider: str) -> str:
    """A result made without the watermark asked for: the only host able to make it has none."""
    return _("Made without the watermark: %(provider)s can't add one.", provider=provider)


def answer_window_closed(minutes: int) -> str:
    """A request that can be answered only for a while (a platform's reply window) ran out before
    its images were ready: they are not posted and are refunded."""
    return Stated(
        _join(
            _n(
                "I can answer here only for %(n)s minute after you ask, and your images weren't ready "
                "in time, so they won't be posted.",
                "I can answer here only for %(n)s minutes after you ask, and your images weren't ready "
                "in time, so they won't be posted.",
                minutes,
            ),
            _text("NOT_CHARGED"),
            _("Please try again."),
        )
    )


def images_range(first: int, last: int, total: int) -> str:
    """The caption of a result's later message ("Images 11–15 of 15")."""
    return _("Images %(first)s–%(last)s of %(total)s", first=first, last=last, total=total)


def results_in_thread(count: int) -> str:
    return _n("%(n)s image in the thread.", "%(n)s images in the thread.", count)


def shown_prompt(prompt: str) -> str:
    """A job's prompt as a result, a title or a list shows it: seedbot's own words to the model
    (an upscale's, a variation's) said as what they are, in the reader's language; a person's
    prompt as typed."""
    if prompt == UPSCALE_PROMPT:  # (no number: "image 1" read as the wrong one beside "#3")
        return _("Upscaled to 4K")
    if prompt == VARIATIONS_PROMPT:
        return _("Variations of image 1")
    return prompt


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _one_line(prompt: str, limit: int) -> str:
    line = " ".join(shown_prompt(prompt).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def thread_name(prompt: str, limit: int = 100) -> str:
    """A conversation title from a prompt: one line, at most `limit` characters."""
    return _one_line(prompt, limit) or "seedbot"


def mention_help(mention: str, options: list[str]) -> str:
    return _(
        "Mention me with a prompt, e.g. `%(mention)s a red fox in snow --ar 3:2 --n 2`, and attach "
        "images to edit or combine them.\n"
        "Options: %(options)s.\n"
        "Reply to one of my images with a prompt to edit it (#2 picks image 2 of a batch).",
        mention=mention,
        options=_list(options),
    )


# -- community: history, lineage, admin controls, stats ----------------------------------------

_STATUS = {
    "queued": NC_("job status", "queued"),
    "running": NC_("job status", "running"),
    "succeeded": NC_("job status", "succeeded"),
    "failed": NC_("job status", "failed"),
    "cancelled": NC_("job status", "cancelled"),
}
_KIND = {
    "imagine": NC_("job kind", "imagine"),
    "edit": NC_("job kind", "edit"),
    "reroll": NC_("job kind", "reroll"),
    "variations": NC_("job kind", "variations"),
    "upscale": NC_("job kind", "upscale"),
}


def job_status(status: str) -> str:
    """A job's status as a word ("succeeded")."""
    return _p("job status", _STATUS[status]) if status in _STATUS else status


def job_kind(kind: str) -> str:
    """What a job was ("edit", "upscale")."""
    return _p("job kind", _KIND[kind]) if kind in _KIND else kind


def charged_line(units: int) -> str:
    return _n("Charged: %(n)s image of your quota.", "Charged: %(n)s images of your quota.", units)


def batch_too_large(count: int, limit: int) -> str:
    if _on_servers():
        return _free(
            _n(
                "This server allows at most %(n)s image per request, not %(count)s.",
                "This server allows at most %(n)s images per request, not %(count)s.",
                limit,
                count=count,
            )
        )
    return _free(
        _n(
            "This workspace allows at most %(n)s image per request, not %(count)s.",
            "This workspace allows at most %(n)s images per request, not %(count)s.",
            limit,
            count=count,
        )
    )


def operator_limits_stand() -> str:
    """A server admin lifting a block or limits a seedbot operator set (a quota follows its
    person everywhere)."""
    if _on_servers():
        return _(
            "A seedbot operator set this person's block or limits, and a quota follows its person to "
            "every server: only an operator (SEEDBOT_ADMINS) can lift them. Here you can lower them."
        )
    return _(
        "A seedbot operator set this person's block or limits, and a quota follows its person to "
        "every workspace: only an operator (SEEDBOT_ADMINS) can lift them. Here you can lower them."
    )


def not_a_member() -> str:
    if _on_servers():
        return _(
            "You can change the quota of members of this server only: a quota follows its person to "
            "every server. A seedbot operator (SEEDBOT_ADMINS) can change anyone's."
        )
    return _(
        "You can change the quota of members of this workspace only: a quota follows its person to "
        "every workspace. A seedbot operator (SEEDBOT_ADMINS) can change anyone's."
    )


def weights_note(weights: dict[str, int]) -> str:
    """How resolution tiers count against quotas ("" when every tier counts 1)."""
    heavy = [
        _("a %(tier)s image counts as %(weight)s", tier=tier, weight=w)
        for tier, w in weights.items()
        if w != 1
    ]
    return _("Quotas are weighted: %(weights)s.", weights=_list(heavy)) if heavy else ""


def pool_left(used: int, limit: int, resets_at: datetime) -> str:
    return _(
        "Shared images left here today: %(left)s of %(limit)s (resets %(when)s).",
        left=max(0, limit - used),
        limit=limit,
        when=_when(resets_at),
    )


def history_line(
    n: int, *, when: str, prompt: str, model: str, size: str, status: str, images: int, link: str | None
) -> str:
    short = _one_line(prompt, 80)
    where = f" {link}" if link else ""
    count = image_count(images)
    return f"{n}. {when} · {short} · {model} · {size} · {job_status(status)} · {count}{where}"


def audit_trail(entries: list[tuple[str, str, str, str, str]], target: str | None) -> str:
    """(at, actor, action, target, detail) rows, newest first."""
    if not entries:
        return (
            _("No admin changes recorded for %(target)s.", target=target)
            if target
            else _("No admin changes recorded.")
        )
    lines = [
        _("Admin changes for %(target)s, newest first:", target=target)
        if target
        else _("Admin changes, newest first:")
    ]
    for at, actor, action, whom, detail in entries:
        lines.append(
            f"{at[:19].replace('T', ' ')} UTC  {actor}  {action}  {whom}{f'  {detail}' if detail else ''}"
        )
    return "\n".join(lines)


def working_line(prompt: str, status: str, elapsed: float) -> str:
    """A job still waiting or being made, for `status`."""
    return f"• {_one_line(prompt, 80)} · {job_status(status)} · {seconds(elapsed, 0)}"


def working(lines: list[str]) -> str:
    if not lines:
        return _text("NOTHING_WORKING")
    return _("Being made for you now (its message has Cancel):") + "\n" + "\n".join(lines)


def history(lines: list[str]) -> str:
    if not lines:
        return _text("NO_HISTORY")
    return _("Your last jobs, newest first:") + "\n" + "\n".join(lines)


def lineage(
    *,
    job_id: str,
    kind: str,
    prompt: str,
    references: list[str],
    parent: str | None,
    model: str,
    provider: str | None,
    size: str,
    took: float | None,
    charged: int,
    status: str,
    made_from: str | None = None,
    style: str | None = None,
) -> str:
    none = _p("nothing in a list", "none")
    refs = _p("list separator", "; ").join(references) if references else none
    lines = [
        _("Job %(job)s (%(kind)s, %(status)s)", job=job_id, kind=job_kind(kind), status=job_status(status)),
        _("Prompt: %(prompt)s", prompt=shown_prompt(prompt)),  # an upscale's: in the reader's words
        *([lineage_style(style)] if style else []),
        _("References: %(references)s", references=refs),
        made_from or (_("Made from: job %(job)s", job=parent) if parent else _("Made from: a new prompt")),
        _(
            "Model: %(model)s · Provider: %(provider)s · Size: %(size)s",
            model=model,
            provider=provider or none,
            size=size,
        ),
        _(
            "Time taken: %(took)s · Images charged: %(charged)s",
            took="-" if took is None else seconds(took),
            charged=charged,
        ),
    ]
    return "\n".join(lines)


def reference_upload(n: int, name: str) -> str:
    if name:  # a file's name, as long as its sender made it: 14 of them pushed Info's charge out
        return _("image %(n)s: an upload (%(name)s)", n=n, name=_short(name, 60))
    return _("image %(n)s: an upload", n=n)


def result_name(n: int, job_id: str) -> str:
    """How image `n` of a job is named where it is used again: an edit's references, a cast image."""
    return _("result %(n)s of job %(job)s", n=n, job=job_id)


def reference_result(n: int, job_id: str) -> str:
    return _("image %(n)s: a result of job %(job)s", n=n, job=job_id)


def references_expired(count: int) -> str:
    return _n("%(n)s image, no longer kept", "%(n)s images, no longer kept", count)


def quota_changed(target: str, what: str) -> str:
    return _("%(what)s for %(target)s. Every change is recorded.", what=what, target=target)


def limits_set(detail: str) -> str:
    return _("Limits set: %(detail)s", detail=detail)


def granted_today(extra: int) -> str:
    return _("Granted %(images)s today", images=extra_images(extra))


def quota_show(target: str, blocked: bool, summary: str) -> str:
    if blocked:
        return _("%(target)s (blocked)", target=target) + "\n" + summary
    return f"{target}\n{summary}"


def setting_state(state: str) -> str:
    """A setting's value that is a state, not words an admin types: "default" (seedbot's own),
    "no limit" (pool, max_batch), "everywhere" (channels)."""
    states = {
        "default": lambda: _p("a workspace setting's value", "default"),
        "no limit": lambda: _p("a workspace setting's value", "no limit"),
        "everywhere": lambda: _p("a workspace setting's value", "everywhere"),
    }
    return states[state]()


def settings_show(workspace: str, values: list[tuple[str, str]]) -> str:
    return (
        _("Settings for %(workspace)s:", workspace=workspace)
        + "\n"
        + "\n".join(_labelled(k, v) for k, v in values)
    )


def setting_changed(workspace: str, key: str, value: str) -> str:
    return _(
        "%(key)s is now %(value)s for %(workspace)s. Every change is recorded.",
        key=key,
        value=value,
        workspace=workspace,
    )


def bad_setting(key: str, known: list[str]) -> str:
    return _("There is no setting '%(key)s'. Settings: %(known)s.", key=key, known=_list(known))


def limit_hint(low: int, high: int) -> str:
    """The hint of bad_setting_value for a number an admin sets ("a number from 0 to 1000000")."""
    # TRANSLATORS: %(low)s and %(high)s are digits without separators.
    return _("a number from %(low)s to %(high)s", low=str(low), high=str(high))


def bad_setting_value(key: str, value: str, hint: str) -> str:
    return _("'%(value)s' doesn't work for %(key)s: %(hint)s.", value=value, key=key, hint=hint)


def stats(
    scope: str,
    periods: list[tuple[str, int, int]],
    by_user: list[tuple[str, int, int]],
    by_provider: list[tuple[str, int, int]],
    failures: list[tuple[str, int]],
) -> str:
    """periods: (label, jobs, images); by_*: (name, jobs, images) this month; failures: (kind, n)."""
    count = image_count
    none = "  " + _p("nothing in a list", "none")
    lines = [_("Stats for %(scope)s:", scope=scope)]
    lines += [_labelled(label, _list([jobs(j), count(i)])) for label, j, i in periods]
    lines.append(_("This month by provider:"))
    lines += ["  " + _labelled(name, _list([jobs(j), count(i)])) for name, j, i in by_provider] or [none]
    lines.append(_("Failures this month by kind:"))
    lines += ["  " + _labelled(failure_kind(kind), str(n)) for kind, n in failures] or [none]
    # The users last, and the busiest only: a server of hundreds made an answer no message holds.
    lines.append(_("This month by user:"))
    lines += ["  " + _labelled(name, _list([jobs(j), count(i)])) for name, j, i in by_user[:STATS_USERS]] or [
        none
    ]
    if len(by_user) > STATS_USERS:
        lines.append("  " + _n("and %(n)s more person", "and %(n)s more people", len(by_user) - STATS_USERS))
    return "\n".join(lines)


STATS_USERS = 25  # users `stats` names, the busiest first


def failure_kind(kind: str) -> str:
    """A failed job's kind as the ledger keeps it (engine.pipeline.FAILURE_KINDS), in words."""
    names = {
        "auth": _p("failure kind", "key refused"),
        "no_credits": _p("failure kind", "provider out of credit"),
        "rate_limited": _p("failure kind", "rate limited"),
        "moderation": _p("failure kind", "refused by moderation"),
        "bad_request": _p("failure kind", "request refused"),
        "unavailable": _p("failure kind", "provider unavailable"),
        "timeout": _p("failure kind", "timed out"),
        "delivery": _p("failure kind", "could not be posted"),
        "restart": _p("failure kind", "lost to a restart"),
        "cancelled": _p("failure kind", "cancelled"),
    }
    return names.get(kind, kind)


def admin_help(prefix: str, keys: list[str], *, operator: bool = True) -> str:
    """`keys`: the settings an admin may set (the list was written out here, and lost `buttons`);
    a server's admin who is no `operator` is told which of them are the operators' alone."""
    operators = "\n" + _("Grant, reset and limits above the bot's are for seedbot's operators.")
    return _(
        "Admin commands:\n"
        "`%(prefix)s quota show|reset|block|unblock @user`\n"
        "`%(prefix)s quota set @user daily=N monthly=N`\n"
        "`%(prefix)s quota grant @user N` (extra images today)\n"
        "`%(prefix)s settings [KEY]` (show) / `%(prefix)s settings KEY VALUE` "
        "(%(keys)s; 'none' clears)\n"
        "`%(prefix)s stats`\n"
        "`%(prefix)s style list|add|change|remove|hide ...` (style presets: `%(prefix)s style` for more)",
        prefix=prefix,
        keys=_list(keys),
    ) + ("" if operator else operators)


# -- the web playground (adapters/web_adapter) ------------------------------------------------


def playground_help(options: list[str]) -> str:
    return _(
        "Describe the image you want, e.g. `a red fox in snow --ar 3:2 --n 2`, or pick the options "
        "under the box (flags you type win).\n"
        "Options: %(options)s.\n"
        "Attach, drop or paste up to 14 images to edit or combine them. Each request is a thread: "
        "reply in it to edit its latest result (#2 picks image 2 of a batch).",
        options=_list(options),
    )


def upscale_button(n: int) -> str:
    """The button that upscales image #n of a result."""
    return _("Upscale #%(n)s", n=n)


_ACTION_LABELS = {
    "reroll": "BUTTON_REROLL",
    "variations": "BUTTON_VARIATIONS",
    "edit": "BUTTON_EDIT",
    "info": "BUTTON_INFO",
    "delete": "BUTTON_DELETE",
    "upscale": "BUTTON_UPSCALE",
    "cancel": "BUTTON_CANCEL",
}


def button_how(button: str, word: str) -> str:
    """A result's button name typed alone, not as a reply: which result is meant is unknown."""
    # TRANSLATORS: %(button)s is the button's label ("Re-roll"); keep %(word)s as typed.
    return _(
        "To do that, press %(button)s under the result, or reply `%(word)s` to it.", button=button, word=word
    )


def action_label(action: str, pick: int | None = None) -> str:
    """The button of a result's action (or Cancel on a job at work) in the current language;
    Upscale with `pick` names its image ("Upscale #2")."""
    if action == "upscale" and pick is not None:
        return upscale_button(pick)
    return str(__getattr__(_ACTION_LABELS[action]))


def option_chips(
    *,
    aspect: str | None,
    resolution: str | None,
    count: int | None,
    model: str | None,
    output_format: str | None,
    watermark: bool | None,
    style: str | None,
    refs: list[str],
) -> list[str]:
    """The options picked in the playground's form, as its thread shows them under the prompt."""
    chips = [
        _("aspect %(aspect)s", aspect=aspect) if aspect else "",
        resolution or "",
        image_count(count) if count and count != 1 else "",
        _("model %(model)s", model=model) if model else "",
        output_format or "",
        {True: _("watermark on"), False: _("watermark off"), None: ""}[watermark],
        _("style %(style)s", style=style) if style else "",
        _("cast %(names)s", names=_list(refs)) if refs else "",
    ]
    return [c for c in chips if c]


def web_labels() -> dict[str, object]:
    """The words the playground's script shows, in the current locale (the page carries them
    as JSON: the script has no catalog of its own). `%(n)s` and `%(title)s` are filled in by
    the script."""
    return {
        "reroll": _text("BUTTON_REROLL"),
        "variations": _text("BUTTON_VARIATIONS"),
        "edit": _text("BUTTON_EDIT"),
        "delete": _text("BUTTON_DELETE"),
        "info": _text("BUTTON_INFO"),
        "you": _p("who asked, in the playground's timeline", "You"),
        "progress": _("Progress"),
        "image": i18n.gettext("image %(n)s"),
        "original": _p("a link to an image's original file", "original"),
        "save_to_cast": _("Save to cast"),
        "save_prompt": i18n.gettext("Save image %(n)s in your cast as (letters, digits, - or _):"),
        "edit_latest": _("Edit the latest result instead"),
        "hide_thread": _("Hide this thread"),
        "reply": _p("a text box's label", "Reply"),
        "reply_placeholder": _(
            "Reply to edit the latest result: a new prompt, images, #2 for one of a batch"
        ),
        "attach": _("Attach"),
        "put_in_box": _("Put it in the box, to send or change"),
        "remove": _("Remove"),
        "show_thread": _("Show thread"),
        "no_images": _("No images yet."),
        "nothing_saved": _("Nothing saved yet."),
        "send": _p("a reply form's submit button", "Send"),
        "close": _("Close"),
        # TRANSLATORS: a request could not reach the playground's server (network down, a restart).
        "unreachable": _("Can't reach seedbot: nothing was sent or charged. Try again in a moment."),
        # TRANSLATORS: %(n)s is the most characters a prompt may have.
        "too_long": i18n.gettext("A prompt may have at most %(n)s characters: shorten this one to send it."),
        # TRANSLATORS: read out by a screen reader as a request's stage changes; %(title)s is
        # the request's thread title (the start of its prompt).
        "announce_queued": i18n.gettext("Queued: %(title)s"),
        "announce_running": i18n.gettext("Generating: %(title)s"),
        "announce_ready": i18n.gettext("Images ready: %(title)s"),
        "announce_failed": i18n.gettext("Not made: %(title)s"),
        "kinds": {kind: job_kind(kind) for kind in _KIND},
        "statuses": {status: job_status(status) for status in _STATUS},
    }


# The operator's words (the shell, the log): English, like the rest of the operator's tools.


def playground_ready(url: str) -> str:
    return f"seedbot playground: open {url}"


def web_needs_token(host: str) -> str:
    return (
        f"SEEDBOT_WEB_HOST={host} is reachable from other machines: set SEEDBOT_WEB_TOKEN (a long "
        "random secret) so only people who know it can use the playground, or bind 127.0.0.1."
    )


def web_token_too_short(minimum: int) -> str:
    return (
        f"SEEDBOT_WEB_TOKEN is too short: use at least {minimum} random characters, e.g. from "
        "`python3 -c 'import secrets; print(secrets.token_urlsafe(24))'`."
    )


def web_cannot_listen(url: str, reason: str, *, address: bool = False) -> str:
    """`address`: the host is no address of this machine (a typo, a name that doesn't resolve)."""
    fix = "SEEDBOT_WEB_HOST to an address of this machine" if address else "SEEDBOT_WEB_PORT to a free port"
    return f"The playground can't listen on {url} ({reason}): set {fix}."


def cannot_listen(port: int, setting: str, exc: OSError) -> str:
    """An HTTP server of seedbot's could not bind its port (SEEDBOT_HTTP_PORT, a platform's)."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio's repeats the address
    return f"could not listen on port {port} ({setting}): {reason}: set {setting} to another port"


def web_body_too_large(limit: int, each: int, most: int) -> str:
    return _free(
        _(
            "That upload is over %(limit)s MB in all: each image may be at most %(each)s MB, "
            "%(most)s at once.",
            limit=limit // 1_000_000,
            each=each // 1_000_000,
            most=most,
        )
    )


# -- upscale and cancel (issue 20) -----------------------------------------------------------


def upscale_note(pick: int, job_id: str) -> str:
    """Shown with an upscale's result: honest about what it is."""
    return _(
        "image 1 = result #%(pick)s of job %(job)s. This is a 4K re-render by Seedream 4.5, "
        "not a pixel upscale: fine details may differ slightly from the original.",
        pick=pick,
        job=job_id,
    )


def upscale_which(count: int) -> str:
    return _(
        "That result has %(count)s images: say which one, e.g. `upscale #2` (1 to %(count)s).", count=count
    )


def upscale_upload_note(name: str) -> str:
    """Shown with the upscale of an image the person sent."""
    return _(
        "image 1 = %(name)s. This is a 4K re-render by Seedream 4.5, not a pixel upscale: fine "
        "details may differ slightly from the original.",
        name=name,
    )


def upscale_of(pick: int, job_id: str) -> str:
    """Info's line for an upscale."""
    return _("Made from: an upscale of job %(job)s image #%(pick)s", job=job_id, pick=pick)


def cancelled(by_owner: bool, shown: int = 0) -> str:
    """To the person whose job was cancelled (the status message); `shown`: images of it they
    had seen already (a streamed batch), charged."""
    said = _("You cancelled this request.") if by_owner else _("An admin cancelled this request.")
    return Stated(_join(said, shown_charged(shown))) if shown else _free(said)


def cancel_done(job_id: str, shown: int = 0) -> str:
    """To the person who pressed Cancel."""
    if shown:
        return Stated(_join(_("Cancelled job %(job)s.", job=job_id), shown_charged(shown)))
    return Stated(_("Cancelled job %(job)s. Nobody was charged for it.", job=job_id))


def shown_charged(n: int) -> str:
    """A cancelled job's images that the person had seen already."""
    return _n(
        "The %(n)s image already shown was charged; the rest was refunded.",
        "The %(n)s images already shown were charged; the rest was refunded.",
        n,
    )


def delivery_cut_short(n: int) -> str:
    """A result whose posting stopped (an error, a shutdown) after `n` images reached the person."""
    return Stated(
        _n(
            "Posting the images stopped after %(n)s of them; you were charged only for the %(n)s "
            "image posted.",
            "Posting the images stopped after %(n)s of them; you were charged only for the %(n)s "
            "images posted.",
            n,
        )
    )


# -- style presets and the saved cast (bot/conversation/styles.py, cast.py) ---------------------


def name_hint(what: str, name: str) -> str:
    if what == "cast":
        text = _(
            "'%(name)s' doesn't work as a cast name: use 1 to 32 letters, digits, '-' or '_', "
            "starting with a letter or digit.",
            name=name,
        )
    else:
        text = _(
            "'%(name)s' doesn't work as a style name: use 1 to 32 letters, digits, '-' or '_', "
            "starting with a letter or digit.",
            name=name,
        )
    # No charge note of its own: a request's refusal gets "You were not charged." added
    # (with_charge_note); an admin's `style remove` or a `cast save` costs nothing to speak of.
    return text


def _close(names: list[str]) -> str:
    if not names:
        return ""
    # TRANSLATORS: between two or three names offered as alternatives ("'anime' or 'anima'").
    return _("Did you mean %(names)s?", names=_p("alternatives", " or ").join(repr(n) for n in names))


def unknown_style(name: str, close: list[str], known: list[str]) -> str:
    listed = _("Styles here: %(known)s.", known=_list(known)) if known and not close else ""
    return _free(_("There is no style '%(name)s' here.", name=name), _close(close), listed)


def unknown_cast(name: str, close: list[str], *, shared: bool = True, listing: str = "cast list") -> str:
    """`shared`: the requester is in a server or workspace, whose cast was looked in too;
    `listing`: the command that lists it where they are (the shell's is not a chat word)."""
    if not shared:
        missing = _("There is no '%(name)s' in your cast.", name=name)
    elif _on_servers():
        missing = _("There is no '%(name)s' in your cast or this server's.", name=name)
    else:
        missing = _("There is no '%(name)s' in your cast or this workspace's.", name=name)
    # TRANSLATORS: %(listing)s is a command, kept as written ("cast list").
    return _free(missing, _close(close), _("`%(listing)s` shows what you saved.", listing=listing))


def styles_list(lines: list[str]) -> str:
    return _("Styles (use `--style NAME`):") + "\n" + "\n".join(_bounded(lines))


# A listing's lines at most (a Discord answer holds 4,000 characters, its title and the count of
# the lines left out aside): whole lines, as many as fit; cut inside one, a code span stayed open.
LIST_BUDGET = 3600


def _bounded(lines: list[str], budget: int = LIST_BUDGET) -> list[str]:
    """As many whole `lines` as fit in `budget` characters, then how many more there are."""
    used = 0
    for n, line in enumerate(lines):
        used += len(line) + 1
        if used > budget:
            return [*lines[:n], more_lines(len(lines) - n)]
    return lines


def more_lines(n: int) -> str:
    """A listing's lines left out (a server's many styles, an operator's large cast)."""
    return _n("…and %(n)s more.", "…and %(n)s more.", n)


def style_line(name: str, suffix: str, defaults: str, origin: str) -> str:
    """`origin`: "built-in" or "own" (the server's or workspace's)."""
    extra = f" · {defaults}" if defaults else ""
    if origin == "built-in":
        where = _("built-in")
    else:
        where = _("this server") if _on_servers() else _("this workspace")
    # A style's words may run to 1,000 characters: the list shows their start.
    shown = _short(suffix, STYLE_WORDS_SHOWN)
    return _('• `%(name)s` (%(origin)s): adds "%(suffix)s"', name=name, origin=where, suffix=shown) + extra


STYLE_WORDS_SHOWN = 200


def style_hidden_line(name: str) -> str:
    return _("• `%(name)s` (built-in, hidden here)", name=name)


def style_changed(workspace: str, name: str, what: str) -> str:
    """`what`: added, changed, removed (`removed-builtin`: a built-in comes back), hidden."""
    texts: dict[str, Callable[[], str]] = {
        "added": lambda: _("Style '%(name)s' added for %(workspace)s.", name=name, workspace=workspace),
        "changed": lambda: _("Style '%(name)s' changed for %(workspace)s.", name=name, workspace=workspace),
        "removed": lambda: _("Style '%(name)s' removed for %(workspace)s.", name=name, workspace=workspace),
        "removed-builtin": lambda: _(
            "Style '%(name)s' removed for %(workspace)s (the built-in one is offered again).",
            name=name,
            workspace=workspace,
        ),
        "hidden": lambda: _("Style '%(name)s' hidden for %(workspace)s.", name=name, workspace=workspace),
    }
    return _join(texts[what](), _("Every change is recorded."))


def style_words_too_long(length: int, limit: int) -> str:
    return _(
        "A style's words can be at most %(limit)s characters (these are %(n)s). Nothing was saved.",
        limit=limit,
        n=length,
    )


def style_not_found(name: str) -> str:
    if _on_servers():
        return _("There is no style '%(name)s' of this server's to change or remove.", name=name)
    return _("There is no style '%(name)s' of this workspace's to change or remove.", name=name)


def style_exists(name: str) -> str:
    """`style add` with a name the server or workspace has a style of its own by already."""
    if _on_servers():
        return _(
            "This server already has a style '%(name)s': change it with `style change %(name)s`, "
            "or remove it first with `style remove %(name)s`.",
            name=name,
        )
    return _(
        "This workspace already has a style '%(name)s': change it with `style change %(name)s`, "
        "or remove it first with `style remove %(name)s`.",
        name=name,
    )


def style_hide_own(name: str) -> str:
    """`style hide` of a built-in the server or workspace has its own style in place of."""
    if _on_servers():
        return _(
            "This server has its own style '%(name)s': `style remove %(name)s` removes it (the "
            "built-in one is offered again), then `style hide %(name)s` hides the built-in.",
            name=name,
        )
    return _(
        "This workspace has its own style '%(name)s': `style remove %(name)s` removes it (the "
        "built-in one is offered again), then `style hide %(name)s` hides the built-in.",
        name=name,
    )


def style_help(prefix: str) -> str:
    if _on_servers():
        return _(
            "Style commands (admins):\n"
            "`%(prefix)s style list`\n"
            "`%(prefix)s style add NAME WORDS [--ar W:H] [--res 2K|3K|4K] [--model 5.0-lite|4.5]`\n"
            "`%(prefix)s style change NAME [WORDS] [--ar W:H] [--res …] [--model …]`\n"
            "`%(prefix)s style remove NAME` (a server's own style; a hidden built-in comes back)\n"
            "`%(prefix)s style hide NAME` (hide a built-in style here)",
            prefix=prefix,
        )
    return _(
        "Style commands (admins):\n"
        "`%(prefix)s style list`\n"
        "`%(prefix)s style add NAME WORDS [--ar W:H] [--res 2K|3K|4K] [--model 5.0-lite|4.5]`\n"
        "`%(prefix)s style change NAME [WORDS] [--ar W:H] [--res …] [--model …]`\n"
        "`%(prefix)s style remove NAME` (a workspace's own style; a hidden built-in comes back)\n"
        "`%(prefix)s style hide NAME` (hide a built-in style here)",
        prefix=prefix,
    )


def cast_saved(name: str, server: bool, count: int, limit: int, *, replaced: bool = False) -> str:
    """`server`: the server's or workspace's cast (whichever the place is called here).
    `replaced`: the name held another image, which this one replaces."""
    saved = _cast_saved(name, server, count, limit)
    if not replaced:
        return saved
    return _join(saved, _("It replaces the image '%(name)s' held before.", name=name))


def _cast_saved(name: str, server: bool, count: int, limit: int) -> str:
    if server and not _on_servers():
        return _(
            "Saved as '%(name)s' in this workspace's cast (%(count)s of %(limit)s). Use it with `--ref %(name)s`.",
            name=name,
            count=count,
            limit=limit,
        )
    if server:
        return _(
            "Saved as '%(name)s' in this server's cast (%(count)s of %(limit)s). Use it with `--ref %(name)s`.",
            name=name,
            count=count,
            limit=limit,
        )
    return _(
        "Saved as '%(name)s' in your cast (%(count)s of %(limit)s). Use it with `--ref %(name)s`.",
        name=name,
        count=count,
        limit=limit,
    )


def cast_removed(name: str, server: bool) -> str:
    if server and not _on_servers():
        return _("Removed '%(name)s' from this workspace's cast.", name=name)
    if server:
        return _("Removed '%(name)s' from this server's cast.", name=name)
    return _("Removed '%(name)s' from your cast.", name=name)


def cast_missing(name: str, server: bool) -> str:
    if server and not _on_servers():
        return _("There is no '%(name)s' in this workspace's cast.", name=name)
    if server:
        return _("There is no '%(name)s' in this server's cast.", name=name)
    return _("There is no '%(name)s' in your cast.", name=name)


def cast_full(limit: int, server: bool) -> str:
    if server and not _on_servers():
        return _n(
            "This workspace's cast is full (%(n)s image, SEEDBOT_CAST_LIMIT). Remove one with "
            "`cast remove NAME` first. Nothing was saved.",
            "This workspace's cast is full (%(n)s images, SEEDBOT_CAST_LIMIT). Remove one with "
            "`cast remove NAME` first. Nothing was saved.",
            limit,
        )
    if server:
        return _n(
            "This server's cast is full (%(n)s image, SEEDBOT_CAST_LIMIT). Remove one with "
            "`cast remove NAME` first. Nothing was saved.",
            "This server's cast is full (%(n)s images, SEEDBOT_CAST_LIMIT). Remove one with "
            "`cast remove NAME` first. Nothing was saved.",
            limit,
        )
    return _n(
        "Your cast is full (%(n)s image, SEEDBOT_CAST_LIMIT). Remove one with `cast remove NAME` "
        "first. Nothing was saved.",
        "Your cast is full (%(n)s images, SEEDBOT_CAST_LIMIT). Remove one with `cast remove NAME` "
        "first. Nothing was saved.",
        limit,
    )


def own_cast_title(count: int, limit: int) -> str:
    return _("Your cast (%(count)s of %(limit)s)", count=count, limit=limit)


def cast_list(title: str, lines: list[str]) -> str:
    return _("%(title)s (use `--ref NAME`):", title=title) + "\n" + "\n".join(_bounded(lines))


def cast_line(name: str, width: int, height: int, label: str) -> str:
    if label:
        return _(
            "• `%(name)s`: %(width)sx%(height)s, from %(label)s",
            name=name,
            width=width,
            height=height,
            label=_short(label, 60),  # a file's name, as long as its sender made it
        )
    return f"• `{name}`: {width}x{height}"


def reference_cast(n: int, name: str) -> str:
    return _('image %(n)s: cast "%(name)s"', n=n, name=name)


def cast_label(name: str) -> str:
    return _('cast "%(name)s"', name=name)


def shared_cast_title() -> str:
    return _("This server's cast") if _on_servers() else _("This workspace's cast")


def shared_cast_empty() -> str:
    return _("This server's cast is empty.") if _on_servers() else _("This workspace's cast is empty.")


def cast_help() -> str:
    if not _on_servers():
        return _(
            "Cast commands:\n"
            "`cast list` · `cast save NAME` (with an attached image, or replying to a result: "
            "`cast save NAME #2`) · `cast remove NAME` · add `--server` for the workspace's cast "
            "(admins save and remove). Use saved images with `--ref NAME` (several allowed)."
        )
    return _(
        "Cast commands:\n"
        "`cast list` · `cast save NAME` (with an attached image, or replying to a result: "
        "`cast save NAME #2`) · `cast remove NAME` · add `--server` for the server's cast (admins "
        "save and remove). Use saved images with `--ref NAME` (several allowed)."
    )


def lineage_style(name: str) -> str:
    return _("Style: %(name)s", name=name)

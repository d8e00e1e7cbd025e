"""Every sentence a user reads, in one place, platform-neutral (plain text, light markdown).

Adapters may add platform formatting around these, but never write their own wording for
errors, quotas or progress.
"""

from __future__ import annotations

from datetime import datetime

NOT_CHARGED = "You were not charged."

UNEXPECTED = "Sorry, something went wrong on our side. You were not charged; please try again."
BLOCKED = "You can't use seedbot here: an admin has blocked your account. You were not charged."
DELIVERY_FAILED = "The images were made but could not be posted here. You were not charged."
DEMO_NOTICE = "Demo mode: no provider key is configured, so these are placeholder images."
NOT_OWNER = "Only the person who made this image (or an admin) can do that."
NOT_A_RESULT = "That message isn't a seedbot result I can edit. Reply to one of my images, or attach images."
BUTTON_INACTIVE = "This button is no longer active. Ask again with /imagine."
WAITING_FOR_PARENT = "The image you replied to is still being made: I'll edit it as soon as it's ready."
PARENT_NOT_READY = (
    "The image you replied to is still being made. Reply again once it is posted. You were not charged."
)
PARENT_FAILED = (
    "The image you replied to could not be made, so there is nothing to edit. "
    "Send a new request instead. You were not charged."
)
RESULT_EXPIRED = (
    "I no longer keep the images of that result: images are kept for a limited time. "
    "Save it and attach it to a new request to edit it. You were not charged."
)
REFERENCES_EXPIRED = (
    "I no longer keep the images that request used: images are kept for a limited time. "
    "Attach them to a new request to run it again. You were not charged."
)
PROMPT_EMPTY = "Please give a prompt: describe the image you want."
SHUTTING_DOWN = "seedbot is restarting; please try again in a minute. You were not charged."
RESTARTED_REFUNDED = (
    "seedbot restarted while this job was running and could not finish it. You were not charged."
)


def streaming(shown: int, of: int) -> str:
    """Under a batch whose images arrive one by one."""
    return f"{plural(shown, 'image')} of {of} here; the others are on their way."


def restarted_partial(delivered: int, requested: int) -> str:
    """A streamed batch cut short by a restart: what came stays, the rest is refunded."""
    return (
        f"seedbot restarted while making your images: {delivered} of {requested} reached you and "
        f"were charged; the other {requested - delivered} were not made and you were not charged for them."
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def quota_exceeded(
    scope: str,
    limit: int,
    used: int,
    resets_at: datetime,
    asked: int | None = None,
    *,
    images: int | None = None,
    place: str = "server",
) -> str:
    """A refused reservation: which limit (`scope`: daily, monthly, or the pool of a `place`,
    server or workspace), what the request counts (`asked` units; `images` when a resolution
    weight makes the number of images differ), what is left and when it resets."""
    left = max(0, limit - used)
    resets = f"it resets at {_when(resets_at)}"
    if scope == "pool":
        which = f"this {place}'s shared pool for today ({plural(limit, 'image')})"
    else:
        which = f"your {'monthly' if scope == 'monthly' else 'daily'} limit ({plural(limit, 'image')})"
    if left == 0:  # used up: nothing this size or smaller would pass
        return f"{which[0].upper()}{which[1:]} is used up; {resets}. {NOT_CHARGED}"
    only = f"only {left} {'is' if left == 1 else 'are'} left of {which}"
    weight = asked // images if asked and images else 1
    if weight > 1 and asked and images:
        fits = left // weight
        fewer = f"at most {fits} at this resolution or a smaller one" if fits else "a smaller resolution"
        return (
            f"This request counts as {plural(asked, 'image')} ({plural(images, 'image')} at a "
            f"resolution that counts {weight} each), but {only}. Ask for {fewer}, or wait: "
            f"{resets}. {NOT_CHARGED}"
        )
    asking = f"You asked for {plural(asked, 'image')}, but {only}" if asked else only[0].upper() + only[1:]
    return f"{asking}. Ask for at most {left}, or wait: {resets}. {NOT_CHARGED}"


def no_provider(reason: str) -> str:
    return f"No image provider can take this request right now ({reason}). {NOT_CHARGED}"


_PROVIDER_TEXT = {
    "auth": "The image service rejected our credentials; an admin has to fix the API key.",
    "no_credits": "The image service account is out of credits; an admin has to top it up.",
    "rate_limited": "The image service is busy (rate limited). Please try again in a minute.",
    "moderation": "The image service refused this prompt or image under its content policy.",
    "bad_request": "The image service could not take this request as given.",
    "unavailable": "The image service is unavailable right now. Please try again later.",
    "timeout": "The image service took too long to answer.",
}


def provider_failed(kind: str) -> str:
    """`kind` is a ProviderErrorKind value."""
    return f"{_PROVIDER_TEXT.get(kind, _PROVIDER_TEXT['unavailable'])} {NOT_CHARGED}"


# -- validation ---------------------------------------------------------------------------


def prompt_too_long(length: int, limit: int) -> str:
    return f"Your prompt is {length} characters; the limit is {limit}. Please shorten it. {NOT_CHARGED}"


def unknown_model(name: str, known: list[str]) -> str:
    return f"There is no model called '{name}'. Choose one of: {', '.join(known)}."


def bad_count(count: int, limit: int) -> str:
    return f"You can ask for 1 to {limit} images at a time, not {count}."


def too_many_references(count: int, limit: int) -> str:
    return f"You gave {count} images; Seedream takes at most {limit} reference images."


def references_plus_outputs(refs: int, count: int, limit: int) -> str:
    return (
        f"{plural(refs, 'reference image')} plus {plural(count, 'new image')} is more than "
        f"Seedream's limit of {limit} in one request. Ask for at most {max(1, limit - refs)}."
    )


def bad_resolution(value: str, model: str, tiers: list[str]) -> str:
    return f"{model} offers {', '.join(tiers)} (or an explicit size like 2048x2048), not '{value}'."


def bad_aspect(value: str) -> str:
    return f"'{value}' is not an aspect ratio I can use: give W:H between 1:16 and 16:1, like 16:9."


def size_out_of_range(width: int, height: int, model: str, low: int, high: int) -> str:
    return (
        f"{width}x{height} is {width * height:,} pixels; {model} makes images of "
        f"{low:,} to {high:,} pixels with sides in a ratio from 1:16 to 16:1."
    )


def bad_output_format(value: str, model: str, formats: list[str]) -> str:
    return f"{model} can return {', '.join(formats)}, not '{value}'."


def bad_optimize(value: str, model: str, modes: list[str]) -> str:
    return f"{model} supports prompt optimisation mode {', '.join(modes)}, not '{value}'."


def not_an_image(name: str) -> str:
    return f"'{name}' is not an image I can read (JPEG, PNG, WebP, BMP, TIFF or GIF). {NOT_CHARGED}"


def image_too_large(name: str, size: int, limit: int) -> str:
    return f"'{name}' is {size / 1_000_000:.1f} MB; each image may be at most {limit // 1_000_000} MB."


def image_too_many_pixels(name: str, width: int, height: int, limit: int) -> str:
    return f"'{name}' is {width}x{height}; each side may be at most {limit} pixels."


def image_bad_ratio(name: str, width: int, height: int) -> str:
    return f"'{name}' is {width}x{height}; its sides must be within a ratio of 1:16."


def image_unreadable(name: str) -> str:
    return f"'{name}' looks damaged or is too large to decode. {NOT_CHARGED}"


def download_failed(name: str, reason: str) -> str:
    return f"I couldn't fetch '{name}': {reason}. {NOT_CHARGED}"


def unknown_flag(flag: str, known: list[str]) -> str:
    return f"I don't know the option '{flag}'. Options: {', '.join(known)}."


def bad_flag_value(flag: str, value: str, hint: str) -> str:
    return f"'{value}' doesn't work for {flag}: {hint}."


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
        return f"You have unlimited images (admin). Used today: {day_used}, this month: {month_used}."
    day_left = "unlimited" if day_limit is None else f"{max(0, day_limit - day_used)} of {day_limit}"
    month_left = (
        "unlimited" if month_limit is None else f"{max(0, month_limit - month_used)} of {month_limit}"
    )
    extra = f", including {granted} extra granted for today" if granted else ""
    return (
        f"Images left today: {day_left} (resets {_when(day_resets)}{extra}).\n"
        f"Images left this month: {month_left} (resets {_when(month_resets)}).\n"
        f"Used today: {day_used}; this month: {month_used}."
    )


def queued(position: int) -> str:
    return f"Queued: you are #{position} in line."


def progress_bar(percent: float, width: int = 12) -> str:
    filled = round(max(0.0, min(100.0, percent)) / 100 * width)
    return "█" * filled + "░" * (width - filled)


def running(elapsed: float, percent: float | None) -> str:
    base = f"Generating… {elapsed:.0f}s"
    if percent is None:
        return base
    return f"{base}  {progress_bar(percent)} {percent:.0f}%"


def partial_delivery(got: int, asked: int, weight: int = 1) -> str:
    charged = "" if weight == 1 else f" ({got * weight} of your quota)"
    return (
        f"The image service returned {got} of {asked} images; "
        f"you were charged only for the {plural(got, 'image')} delivered{charged}."
    )


def not_posted(posted: int, made: int, weight: int = 1) -> str:
    charged = "" if weight == 1 else f" ({posted * weight} of your quota)"
    return (
        f"Only {posted} of the {made} images could be posted here; "
        f"you were charged only for the {plural(posted, 'image')} posted{charged}."
    )


def references_legend(names: list[str]) -> str:
    return "; ".join(f"image {i} = {name}" for i, name in enumerate(names, start=1))


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
) -> str:
    """The few lines under a result: what was made, how, and what the user has left."""
    short = prompt if len(prompt) <= 300 else prompt[:297] + "…"
    lines = [short, f"{model_name} · {size} · {provider} · {elapsed:.1f}s"]
    if legend:
        lines.append(legend)
    if delivered < requested:
        lines.append(partial_delivery(delivered, requested, weight))
    elif weight != 1:
        lines.append(charged_line(delivered * weight))
    if refitted:
        lines.append(REFITTED)
    if left is not None:
        lines.append(f"Images left today: {left}.")
    if demo:
        lines.append(DEMO_NOTICE)
    return "\n".join(lines)


# -- chat adapters (shared wording for every platform) ----------------------------------------

STARTING = "Starting…"
NOT_IN_CHANNEL = (
    "I can't post in this conversation. Add me to the channel (or message me directly), "
    f"then try again. {NOT_CHARGED}"
)
RESULT_ACTIONS = "Re-roll it, make variations, or edit it with a new prompt. Reply in this thread to edit."
BUTTON_REROLL = "Re-roll"
BUTTON_VARIATIONS = "Variations"
BUTTON_EDIT = "Edit"
EDIT_TITLE = "Edit image"
EDIT_SUBMIT = "Generate"
EDIT_PROMPT_LABEL = "What should change?"
EDIT_PROMPT_HINT = "Describe the change. #2 edits only image 2 of a batch; flags like --ar 16:9 work too."
HOME_TITLE = "Your seedbot images"
HOME_USAGE = "Your images"
HOME_RECENT = "Your latest results"
HOME_NEW = "New image"
HOME_OPEN = "Open"
HOME_NO_RESULTS = "No results yet. Press New image, or mention me in a channel."
PROMPT_TITLE = "New image"
PROMPT_SUBMIT = "Generate"
PROMPT_LABEL = "Describe the image"
PROMPT_HINT = "The result comes to our direct messages. Flags like --ar 16:9 --n 2 work too."
LABEL_ASPECT = "Aspect ratio"
LABEL_COUNT = "How many"
OPTION_DEFAULT = "Default"

# The side panel: a short status while a job runs ("seedbot is generating…"), a greeting and a
# few prompts to start from (title, the prompt sent).
ASSISTANT_STATUS = "is generating…"
ASSISTANT_GREETING = (
    "Describe the image you want and I'll make it with Seedream. "
    "Reply here to change the latest one; flags like --ar 16:9 --n 2 work too."
)
SUGGESTED_PROMPTS_TITLE = "Try one of these"
SUGGESTED_PROMPTS = (
    (
        "Fox in the snow",
        "a red fox in fresh snow at golden hour, soft backlight, shallow depth of field --ar 3:2",
    ),
    (
        "Product shot",
        "a glass perfume bottle on wet black stone, studio lighting, water droplets, macro photo --ar 4:5",
    ),
    (
        "Travel poster",
        'a retro travel poster of Kyoto in spring, flat colors, bold title text "KYOTO" --ar 2:3',
    ),
    ("Cozy room", "a cozy isometric reading nook with plants and warm lamp light, soft 3D render --ar 1:1"),
)


def home_result_line(when: str, prompt: str, images: int) -> str:
    """One past result on a person's home page (the link to it follows)."""
    shown = prompt if len(prompt) <= 200 else prompt[:199] + "…"
    return f"{when} · {shown} · {images} image{'s' if images != 1 else ''}"


def with_charge_note(text: str, charged: bool = False) -> str:
    """An error sentence that always says whether the user was charged."""
    if "charged" in text:
        return text
    return f"{text} {'You were charged for what was delivered.' if charged else NOT_CHARGED}"


def asked_for(who: str, prompt: str) -> str:
    """The public line a command posts before working in its thread."""
    return f"{who} asked for: {prompt}"


def help_text(command: str, options: list[str]) -> str:
    return (
        f"Describe the image you want, e.g. `{command} a red fox in snow --ar 3:2 --n 2`.\n"
        f"Options: {', '.join(options)}.\n"
        "Mention me with images attached to edit them or combine them; reply in my thread to edit "
        f"the latest result. `{command} usage` shows how many images you have left."
    )


def file_not_hosted(name: str) -> str:
    return f"I only read files uploaded to this workspace, and '{name}' is hosted elsewhere. {NOT_CHARGED}"


def file_access_denied(name: str) -> str:
    return (
        f"I couldn't read '{name}': I was shown a sign-in page instead of the file, so the app "
        f"is probably missing permission to read files (an admin has to reinstall it). {NOT_CHARGED}"
    )


# -- result details, buttons and commands (any platform with fields, buttons and forms) -------

LABEL_MODEL = "Model"
LABEL_SIZE = "Size"
LABEL_PROVIDER = "Provider"
LABEL_TIME = "Time"
LABEL_LEFT_TODAY = "Images left today"
LABEL_REFERENCES = "References"
UNLIMITED = "unlimited"
REFITTED = "Some images were re-encoded to fit this platform's upload limit."
BUTTON_DELETE = "Delete"
DELETED = "Deleted."
NO_IMAGES_IN_MESSAGE = f"That message has no images I can use. Pick one with image attachments. {NOT_CHARGED}"
CANNOT_POST_HERE = (
    "I'm missing permission to post images here (Send Messages, Attach Files, Embed Links). "
    f"Ask an admin, or message me directly. {NOT_CHARGED}"
)
RESUMES_AFTER_RESTART = (
    "seedbot is restarting. The image service is still working on this; "
    "the result will be posted here once seedbot is back."
)
CONTEXT_EDIT_NAME = "Edit with Seedream"
EDIT_PROMPT_PLACEHOLDER = "Describe the change; flags like --ar 16:9 work too."

COMMAND_IMAGINE = "Make images from a prompt; attach images to edit or combine them."
COMMAND_EDIT = "Edit images with a prompt: the images you attach are the references, in order."
COMMAND_USAGE = "How many images you have left today and this month, and when that resets."
OPTION_PROMPT = "Describe the image. Flags work too: --ar 16:9 --res 3K --n 2"
OPTION_IMAGE = "A reference image (image 1)"
OPTION_MORE_IMAGE = "Another reference image (image {n})"
OPTION_ASPECT = "Aspect ratio, width:height"
OPTION_RESOLUTION = "Resolution: 2K, 3K or 4K as the model offers, or an exact size like 2048x1536"
OPTION_COUNT = "How many images to make (a Seedream sequential batch)"
OPTION_MODEL = "Which Seedream model"
OPTION_FORMAT = "Image format"
OPTION_WATERMARK = "Ask for the image service's watermark"


def seconds(elapsed: float) -> str:
    return f"{elapsed:.1f}s"


def result_notes(
    *,
    delivered: int,
    requested: int,
    refitted: bool = False,
    demo: bool = False,
    legend: str = "",
    weight: int = 1,
) -> list[str]:
    """The remarks under a result, for platforms that show the details as labelled fields."""
    notes = [legend] if legend else []
    if delivered < requested:
        notes.append(partial_delivery(delivered, requested, weight))
    elif weight != 1:
        notes.append(charged_line(delivered * weight))
    if refitted:
        notes.append(REFITTED)
    if demo:
        notes.append(DEMO_NOTICE)
    return notes


def answer_window_closed(minutes: int) -> str:
    """A request that can be answered only for a while (a platform's reply window) ran out before
    its images were ready: they are not posted and are refunded."""
    return (
        f"I can answer here only for {minutes} minutes after you ask, and your images weren't ready "
        f"in time, so they won't be posted. {NOT_CHARGED} Please try again."
    )


def images_range(first: int, last: int, total: int) -> str:
    """The caption of a result's later message ("Images 11–15 of 15")."""
    return f"Images {first}–{last} of {total}"


def results_in_thread(count: int) -> str:
    return f"{plural(count, 'image')} in the thread."


def thread_name(prompt: str, limit: int = 100) -> str:
    """A conversation title from a prompt: one line, at most `limit` characters."""
    line = " ".join(prompt.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line or "seedbot"


def mention_help(mention: str, options: list[str]) -> str:
    return (
        f"Mention me with a prompt, e.g. `{mention} a red fox in snow --ar 3:2 --n 2`, and attach "
        "images to edit or combine them.\n"
        f"Options: {', '.join(options)}.\n"
        "Reply to one of my images with a prompt to edit it (#2 picks image 2 of a batch)."
    )


# -- community: history, lineage, admin controls, stats ----------------------------------------

COMMAND_HISTORY = "Your last 10 jobs, newest first, with links to the results."
COMMAND_ADMIN = "seedbot admin: quotas, server settings and stats."
BUTTON_INFO = "Info"
NO_HISTORY = "You haven't made any images yet."
NOT_ADMIN = (
    "Only admins can do that: the people who manage this server or workspace, or seedbot "
    "operators (SEEDBOT_ADMINS)."
)
NOT_A_MEMBER = (
    "You can change the quota of members of this server only: a quota follows its person to "
    "every server. A seedbot operator (SEEDBOT_ADMINS) can change anyone's."
)
NEEDS_WORKSPACE = "That works only inside a server or workspace, not in direct messages."
CHANNEL_NOT_ALLOWED = (
    f"seedbot isn't enabled in this channel: an admin has limited it to other channels. {NOT_CHARGED}"
)
NO_SUCH_JOB = "I can't find that job."
OPTION_USER = "Whose quota"
OPTION_DAILY = "Images per day"
OPTION_MONTHLY = "Images per month"
OPTION_EXTRA = "Extra images for today"
OPTION_SETTING = "Which setting"
OPTION_VALUE = "New value ('none' clears it; channels: a list of #channels)"


def charged_line(units: int) -> str:
    return f"Charged: {plural(units, 'image')} of your quota."


def batch_too_large(count: int, limit: int) -> str:
    return f"This server allows at most {limit} images per request, not {count}. {NOT_CHARGED}"


def weights_note(weights: dict[str, int]) -> str:
    """How resolution tiers count against quotas ("" when every tier counts 1)."""
    heavy = [f"a {tier} image counts as {w}" for tier, w in weights.items() if w != 1]
    return f"Quotas are weighted: {', '.join(heavy)}." if heavy else ""


def pool_left(used: int, limit: int, resets_at: datetime) -> str:
    return f"Shared images left here today: {max(0, limit - used)} of {limit} (resets {_when(resets_at)})."


def history_line(
    n: int, *, when: str, prompt: str, model: str, size: str, status: str, images: int, link: str | None
) -> str:
    short = " ".join(prompt.split())
    short = short if len(short) <= 80 else short[:79] + "…"
    where = f" {link}" if link else ""
    return f"{n}. {when} · {short} · {model} · {size} · {status} · {plural(images, 'image')}{where}"


def audit_trail(entries: list[tuple[str, str, str, str, str]], target: str | None) -> str:
    """(at, actor, action, target, detail) rows, newest first."""
    if not entries:
        return f"No admin changes recorded{f' for {target}' if target else ''}."
    lines = [f"Admin changes{f' for {target}' if target else ''}, newest first:"]
    for at, actor, action, whom, detail in entries:
        lines.append(
            f"{at[:19].replace('T', ' ')} UTC  {actor}  {action}  {whom}{f'  {detail}' if detail else ''}"
        )
    return "\n".join(lines)


def history(lines: list[str]) -> str:
    return "Your last jobs, newest first:\n" + "\n".join(lines) if lines else NO_HISTORY


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
    refs = "; ".join(references) if references else "none"
    lines = [
        f"Job {job_id} ({kind}, {status})",
        f"Prompt: {prompt}",
        *([lineage_style(style)] if style else []),
        f"References: {refs}",
        made_from or (f"Made from: job {parent}" if parent else "Made from: a new prompt"),
        f"Model: {model} · Provider: {provider or 'none'} · Size: {size}",
        f"Time taken: {'-' if took is None else seconds(took)} · Images charged: {charged}",
    ]
    return "\n".join(lines)


def reference_upload(n: int, name: str) -> str:
    return f"image {n}: an upload ({name})" if name else f"image {n}: an upload"


def reference_result(n: int, job_id: str) -> str:
    return f"image {n}: a result of job {job_id}"


def references_expired(count: int) -> str:
    return f"{plural(count, 'image')}, no longer kept"


def quota_changed(target: str, what: str) -> str:
    return f"{what} for {target}. Every change is recorded."


def quota_show(target: str, blocked: bool, summary: str) -> str:
    return f"{target}{' (blocked)' if blocked else ''}\n{summary}"


def settings_show(workspace: str, values: list[tuple[str, str]]) -> str:
    return f"Settings for {workspace}:\n" + "\n".join(f"{key}: {value}" for key, value in values)


def setting_changed(workspace: str, key: str, value: str) -> str:
    return f"{key} is now {value} for {workspace}. Every change is recorded."


def bad_setting(key: str, known: list[str]) -> str:
    return f"There is no setting '{key}'. Settings: {', '.join(known)}."


def bad_setting_value(key: str, value: str, hint: str) -> str:
    return f"'{value}' doesn't work for {key}: {hint}."


def stats(
    scope: str,
    periods: list[tuple[str, int, int]],
    by_user: list[tuple[str, int, int]],
    by_provider: list[tuple[str, int, int]],
    failures: list[tuple[str, int]],
) -> str:
    """periods: (label, jobs, images); by_*: (name, jobs, images) this month; failures: (kind, n)."""
    lines = [f"Stats for {scope}:"]
    lines += [f"{label}: {plural(jobs, 'job')}, {plural(images, 'image')}" for label, jobs, images in periods]
    lines.append("This month by user:")
    lines += [f"  {name}: {plural(j, 'job')}, {plural(i, 'image')}" for name, j, i in by_user] or ["  none"]
    lines.append("This month by provider:")
    lines += [f"  {name}: {plural(j, 'job')}, {plural(i, 'image')}" for name, j, i in by_provider] or [
        "  none"
    ]
    lines.append("Failures this month by kind:")
    lines += [f"  {kind}: {n}" for kind, n in failures] or ["  none"]
    return "\n".join(lines)


def admin_help(prefix: str) -> str:
    return (
        f"Admin commands:\n"
        f"`{prefix} quota show|reset|block|unblock @user`\n"
        f"`{prefix} quota set @user daily=N monthly=N`\n"
        f"`{prefix} quota grant @user N` (extra images today)\n"
        f"`{prefix} settings` (show) / `{prefix} settings KEY VALUE` "
        "(model, resolution, watermark, format, channels, pool, max_batch; 'none' clears)\n"
        f"`{prefix} stats`\n"
        f"`{prefix} style list|add|change|remove|hide ...` (style presets: `{prefix} style` for more)"
    )


# -- the web playground (adapters/web_adapter) ------------------------------------------------


def playground_help(options: list[str]) -> str:
    return (
        "Describe the image you want, e.g. `a red fox in snow --ar 3:2 --n 2`, or pick the options "
        "under the box (flags you type win).\n"
        f"Options: {', '.join(options)}.\n"
        "Attach, drop or paste up to 14 images to edit or combine them. Each request is a thread: "
        "reply in it to edit its latest result (#2 picks image 2 of a batch)."
    )


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


def web_cannot_listen(url: str, reason: str) -> str:
    return f"The playground can't listen on {url} ({reason}): set SEEDBOT_WEB_PORT to a free port."


WEB_SIGN_IN = "Enter the playground's token (SEEDBOT_WEB_TOKEN) to sign in."
WEB_SIGN_IN_REFUSED = "That is not the playground's token."
WEB_SESSION_NEEDED = "Sign in to the playground first: open its page and enter its token."
WEB_STALE_PAGE = "This page is out of date. Reload it and try again. You were not charged."
WEB_WRONG_HOST = "The playground answers only at its own loopback address (127.0.0.1 or localhost)."


def web_body_too_large(limit: int, each: int, most: int) -> str:
    return (
        f"That upload is over {limit // 1_000_000} MB in all: each image may be at most "
        f"{each // 1_000_000} MB, {most} at once. {NOT_CHARGED}"
    )


# -- upscale and cancel (issue 20) -----------------------------------------------------------

BUTTON_UPSCALE = "Upscale"
BUTTON_CANCEL = "Cancel"
UPSCALE_PLACEHOLDER = "Upscale an image to 4K…"
# What the 4.5 model is asked for: the reference, unchanged, at 4K.
UPSCALE_PROMPT = (
    "Reproduce image 1 exactly as it is, at higher resolution: keep the same composition, subjects, "
    "colours, lighting, text and every detail unchanged; only sharpen and add fine detail."
)
UPSCALE_NO_4K = (
    "Upscaling needs a host that renders Seedream 4.5 at 4K, and none is set up here. "
    f"Ask the bot's operator to add one (fal, Replicate, Ark or Novita). {NOT_CHARGED}"
)
CANCEL_FINISHED = "That job has already finished; there is nothing to cancel."
CANCEL_NOT_OWNER = "Only the person who asked for this image (or an admin) can cancel it."
CANCEL_ELSEWHERE = "That job is finishing in another process and can't be cancelled now. " + NOT_CHARGED


def upscale_note(pick: int, job_id: str) -> str:
    """Shown with an upscale's result: honest about what it is."""
    return (
        f"image 1 = result #{pick} of job {job_id}. This is a 4K re-render by Seedream 4.5, "
        "not a pixel upscale: fine details may differ slightly from the original."
    )


def upscale_which(count: int) -> str:
    return f"That result has {count} images: say which one, e.g. `upscale #2` (1 to {count})."


def upscale_of(pick: int, job_id: str) -> str:
    """Info's line for an upscale."""
    return f"Made from: an upscale of job {job_id} image #{pick}"


def cancelled(by_owner: bool) -> str:
    """To the person whose job was cancelled (the status message)."""
    who = "You cancelled this request." if by_owner else "An admin cancelled this request."
    return f"{who} {NOT_CHARGED}"


def cancel_done(job_id: str) -> str:
    """To the person who pressed Cancel."""
    return f"Cancelled job {job_id}. Nobody was charged for it."


# -- style presets and the saved cast (bot/conversation/styles.py, cast.py) ---------------------

OPTION_STYLE = "A style preset of this server (its prompt suffix and defaults)"
OPTION_NO_STYLE = "No style"
LABEL_STYLE = "Style"
LABEL_CAST = "Saved cast images (names)"
OPTION_REF = "Saved cast images to use as references, by name (comma-separated)"
COMMAND_CAST = "Your saved cast of reference images"
OPTION_CAST_NAME = "The name to keep it under (use it later with --ref NAME)"
OPTION_CAST_IMAGE = "The image to save"
OPTION_CAST_SERVER = "The server's cast instead of yours (admins)"
OPTION_STYLE_SUFFIX = "Words added to the end of every prompt in this style"
NO_STYLES = "There are no styles here yet. Admins add them with `admin style add NAME WORDS`."
CAST_EMPTY = (
    "Your cast is empty. Save an image with `cast save NAME` on an attached image, or in a reply "
    "to one of my results (`cast save NAME #2` picks image 2)."
)
SERVER_CAST_EMPTY = "This server's cast is empty."
CAST_NEEDS_IMAGE = (
    "Attach the image to save (or reply to one of my results, with #N to pick one of a batch). "
    "Nothing was saved."
)
CAST_ONE_IMAGE = "Save one image at a time: pick it with #N. Nothing was saved."


def name_hint(what: str, name: str) -> str:
    return (
        f"'{name}' doesn't work as a {what} name: use 1 to 32 letters, digits, '-' or '_', "
        f"starting with a letter or digit. {NOT_CHARGED}"
    )


def _close(names: list[str]) -> str:
    return f" Did you mean {' or '.join(repr(n) for n in names)}?" if names else ""


def unknown_style(name: str, close: list[str], known: list[str]) -> str:
    listed = f" Styles here: {', '.join(known)}." if known and not close else ""
    return f"There is no style '{name}' here.{_close(close)}{listed} {NOT_CHARGED}"


def unknown_cast(name: str, close: list[str]) -> str:
    return (
        f"There is no '{name}' in your cast or this server's.{_close(close)} "
        f"`cast list` shows what you saved. {NOT_CHARGED}"
    )


def styles_list(lines: list[str]) -> str:
    return "Styles (use `--style NAME`):\n" + "\n".join(lines)


def style_line(name: str, suffix: str, defaults: str, origin: str) -> str:
    extra = f" · {defaults}" if defaults else ""
    return f'• `{name}` ({origin}): adds "{suffix}"{extra}'


def style_changed(workspace: str, name: str, what: str) -> str:
    return f"Style '{name}' {what} for {workspace}. Every change is recorded."


def style_not_found(name: str) -> str:
    return f"There is no style '{name}' of this server's to change or remove."


STYLE_NEEDS_SUFFIX = (
    "A style needs words to add to prompts: `admin style add NAME WORDS [--ar W:H] [--res 2K] [--model 4.5]`."
)
STYLE_ONLY_DEFAULTS = "A style keeps words and, optionally, --ar, --res and --model; nothing else."


def style_help(prefix: str) -> str:
    return (
        "Style commands (admins):\n"
        f"`{prefix} style list`\n"
        f"`{prefix} style add NAME WORDS [--ar W:H] [--res 2K|3K|4K] [--model 5.0-lite|4.5]`\n"
        f"`{prefix} style change NAME [WORDS] [--ar W:H] [--res …] [--model …]`\n"
        f"`{prefix} style remove NAME` (a server's own style; a hidden built-in comes back)\n"
        f"`{prefix} style hide NAME` (hide a built-in style here)"
    )


def cast_saved(name: str, server: bool, count: int, limit: int) -> str:
    where = "this server's cast" if server else "your cast"
    return f"Saved as '{name}' in {where} ({count} of {limit}). Use it with `--ref {name}`."


def _whose_cast(server: bool) -> str:
    return "this server's cast" if server else "your cast"


def cast_removed(name: str, server: bool) -> str:
    return f"Removed '{name}' from {_whose_cast(server)}."


def cast_missing(name: str, server: bool) -> str:
    return f"There is no '{name}' in {_whose_cast(server)}."


def cast_full(limit: int, server: bool) -> str:
    whose = "This server's cast" if server else "Your cast"
    return (
        f"{whose} is full ({plural(limit, 'image')}, SEEDBOT_CAST_LIMIT). Remove one with `cast remove NAME` "
        "first. Nothing was saved."
    )


def cast_list(title: str, lines: list[str]) -> str:
    return f"{title} (use `--ref NAME`):\n" + "\n".join(lines)


def cast_line(name: str, width: int, height: int, label: str) -> str:
    source = f", from {label}" if label else ""
    return f"• `{name}`: {width}x{height}{source}"


def reference_cast(n: int, name: str) -> str:
    return f'image {n}: cast "{name}"'


def cast_label(name: str) -> str:
    return f'cast "{name}"'


def cast_help() -> str:
    return (
        "Cast commands:\n"
        "`cast list` · `cast save NAME` (with an attached image, or replying to a result: "
        "`cast save NAME #2`) · `cast remove NAME` · add `--server` for the server's cast (admins "
        "save and remove). Use saved images with `--ref NAME` (several allowed)."
    )


def lineage_style(name: str) -> str:
    return f"Style: {name}"

"""The conversation: everything a user can do, decided once for every surface.

A surface converts a platform event into a `Turn` and calls `handle(turn, reply)`:

    Ask         text (+ flags), typed options, attachments  -> a new image or an edit of them
    Edit        a result (job, message or thread) + text    -> the result's images, then new ones
    Reroll / Variations                                     -> the same request again / a batch
    Upscale     a result's image #N                         -> it again at 4K (Seedream 4.5)
    Cancel      a queued or running job                     -> out of the line / stopped, refunded
    Delete / Info / Usage / Help / History                  -> answered privately

For a job the sequence is always: compose (the prompt enters the flag parser once) -> admit
(validation and the workspace's rules, once) -> a free quota look-ahead -> the status message
-> progress -> the result with its actions, or a refusal that says whether anything was charged.
Jobs resumed after a restart are shown through the same replies (`attach`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import i18n, messages
from bot.conversation import compose
from bot.conversation.admin import Admin
from bot.conversation.cast import Cast, is_cast_command
from bot.conversation.community import Community
from bot.conversation.links import LinkedImages, image_links
from bot.conversation.phrases import (
    CANCEL_WORD,
    EDIT_WORD,
    UNDO_WORDS,
    UPSCALE_WORDS,
    VARY_PICK,
    as_button_word,
    asks_about_rights,
    asks_for_a_surprise,
    asks_for_description,
    asks_for_help,
    asks_for_history,
    asks_for_status,
    asks_for_styles,
    asks_for_transparency,
    asks_for_usage,
    asks_for_variations,
    asks_for_video,
    asks_how_to_save,
    asks_why,
    button_word,
    is_a_miss,
    is_small_talk,
    ordinals_as_picks,
    speaks_of_an_image,
    without_chatter,
)
from bot.conversation.policy import Policy
from bot.conversation.progress import ProgressRelay
from bot.conversation.styles import STYLE_VERBS, Styles
from bot.conversation.surface import Arrived, EditForm, Reply, ResumedReplies, Shown
from bot.conversation.turns import (
    Ask,
    Attachments,
    Cancel,
    CastCommand,
    Delete,
    Edit,
    Help,
    History,
    Info,
    NoAttachments,
    OpenEdit,
    Options,
    Reroll,
    ResultRef,
    Turn,
    Upscale,
    Usage,
    Variations,
)
from bot.engine.pipeline import Delivery, Engine, PlatformHooks, is_job_id, new_job_id
from bot.engine.posting import listening
from bot.errors import InvalidRequest, LeaseLost, NoProviderAvailable, SeedbotError
from bot.ledger import DATABASE_ERRORS, database_down
from bot.ledger.base import Ledger
from bot.logs import log_problem
from bot.media.fetch import SafeFetcher
from bot.request.flags import ParsedText, flag_help, on_top, parse_text, unwrapped
from bot.request.models import (
    GeneratedImage,
    GenerationResult,
    ImageInput,
    Job,
    JobKind,
    JobStatus,
    Requester,
)
from bot.request.styles import check_name, styled_prompt
from bot.request.validation import TIERS, check_reference_count, clean_prompt, get_model
from bot.request.workspace import WorkspacePolicy, plain_channel

__all__ = ["Conversation", "Surface"]

log = logging.getLogger(__name__)

# A command typed as text with a chat's command mark ("/usage", "!history"): the command.
_COMMAND_MARK = re.compile(r"^\s*[/!](?=[^\W\d_])")

STARTING_WAIT = 10.0  # seconds a reply to a brand-new status message waits for its job row
DELETE_WAIT = 1.5  # seconds Delete of a result still being posted waits for it to close


async def _no_link(job: Job) -> str | None:
    return None


def _as_typed(who: Requester, word: str) -> str:
    return word


def _nobody(who: Requester, word: str) -> str:
    raise InvalidRequest(messages.bad_setting_value("user", word, messages.HINT_MENTION))


@dataclass(frozen=True, slots=True)
class Surface:
    """What the conversation needs to know of a surface."""

    name: str  # the platform of its requesters ("discord", "slack", "web")
    resumed: ResumedReplies  # a reply for a job whose turn is gone (after a restart)
    help: Callable[[], str]  # the help text, in the surface's own command words
    progress_interval: float = 2.0  # seconds between progress edits of one message
    # How typed commands start there ("/imagine", "@seedbot"; "" where words are typed alone).
    prefix: Callable[[], str] = str
    # A link to a job's result there (History links each line to it).
    link: Callable[[Job], Awaitable[str | None]] = _no_link
    # A person named in typed words (`Ask.words`) -> their user key, InvalidRequest if the word
    # names nobody: `admin quota show @ann`. The default knows nobody (the playground).
    person: Callable[[Requester, str], str] = _nobody
    # A channel named in typed words (`admin settings channels #art`) -> its id there,
    # InvalidRequest if the word names none. The default takes the word as the id.
    channel: Callable[[Requester, str], str] = _as_typed
    # A channel id -> how a message there links it (`admin settings` shows the channel list);
    # the default writes the id, where channels are not linked.
    channel_link: Callable[[str], str] = plain_channel
    # What the community a request comes from is called there (i18n.PLACES): "server" on
    # Discord; a workspace anywhere else.
    place: str = "workspace"


class Conversation:
    def __init__(self, engine: Engine, ledger: Ledger, fetcher: SafeFetcher) -> None:
        self.engine = engine
        self.ledger = ledger
        self.fetcher = fetcher  # linked images
        self.community = Community(engine.settings, ledger, engine.workspaces)
        self.policy = Policy(engine.settings)
        self.styles = Styles(ledger)
        self.cast = Cast(ledger, self.policy, engine.settings.cast_limit)
        self.admin = Admin(
            self.community, self.policy, self.styles, channel=self._channel, link=self._channel_link
        )
        self.surfaces: dict[str, Surface] = {}
        # Status messages shown for a request whose job row may not exist yet: a reply to one
        # in that moment waits for the row instead of being told it is not a result.
        self._starting: set[tuple[str, str]] = set()

    def attach(self, surface: Surface) -> None:
        """Register a surface: its resumed jobs are delivered through its replies."""
        self.surfaces[surface.name] = surface

        async def deliver(job: Job, result: GenerationResult) -> Delivery:
            reply = await surface.resumed(job)
            who = _requester_of(job)
            left = await self.engine.left_after(who, result)
            # in the languages it was asked in
            with i18n.use(who.public_locale), i18n.use_place(surface.place):
                shown = Shown(result, messages.shown_prompt(job.prompt), "", left, who.display_name)
                return await reply.result(shown)

        async def notify(job: Job, text: str) -> None:
            reply = await surface.resumed(job)
            # Where the job's status was: for everyone there (the turn that could answer
            # privately is gone).
            with i18n.use(_requester_of(job).public_locale), i18n.use_place(surface.place):
                await reply.refuse(messages.with_charge_note(text))

        self.engine.register_platform(surface.name, PlatformHooks(deliver=deliver, notify=notify))

    # -- one turn --------------------------------------------------------------------------------

    async def handle(self, turn: Turn, reply: Reply) -> None:
        """Do what the turn asks and answer through `reply`, in the requester's language (posts
        everyone reads: in the workspace's); never raises a user's error."""
        surface = self.surfaces.get(turn.who.platform)
        with i18n.use(turn.who.locale), i18n.use_place(surface.place if surface else i18n.PLACES[0]):
            await self._handle(turn, reply)

    async def _handle(self, turn: Turn, reply: Reply) -> None:
        try:
            await self._dispatch(turn, reply)
        except LeaseLost:  # another process took the job over: it answers the user
            log.info("%s: %s by %s continues in another process", turn.who.platform, turn.what, turn.who.key)
        except SeedbotError as exc:
            log.info("%s: %s by %s refused: %s", turn.who.platform, turn.what, turn.who.key, exc)
            costly = isinstance(turn.action, Ask | Edit | Reroll | Variations | Upscale)
            await _tell(
                reply, messages.with_charge_note(exc.user_text, exc.charged) if costly else exc.user_text
            )
        except asyncio.CancelledError:  # shutting down: the engine refunded or checkpointed the job
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._interrupted(turn.who, reply), 3.0)
            raise
        except Exception:
            log.exception(
                "%s: %s by %s in channel %s failed",
                turn.who.platform,
                turn.what,
                turn.who.key,
                turn.who.channel_id,
            )
            await _tell(reply, messages.UNEXPECTED)

    async def _dispatch(self, turn: Turn, reply: Reply) -> None:
        who, action = turn.who, turn.action
        match action:
            case Ask():
                if action.commands and await self._words(
                    who, action.text, reply, action.quoted, action.attachments
                ):
                    return
                # Images quoted (a reply's, a thread's) leave "@seedbot usage" a command.
                typed = action.commands and not len(action.attachments)
                said = action.words or action.text
                if typed and await self._commands(who, said, reply, empty=True, alone=not len(action.quoted)):
                    return
                await self._ask(who, action, reply)
            case Edit():
                if is_cast_command(action.text):
                    await self._cast_words(who, action.text, reply, action.attachments, edit=action)
                    return
                typed = action.commands and not len(action.attachments)
                if typed and await self._commands(who, action.words or action.text, reply, empty=False):
                    return
                await self._edit(who, action, reply)
            case OpenEdit():
                await self._open_edit(who, action, reply)
            case CastCommand():
                await self._cast_command(who, action, reply)
            case Reroll():
                rules = await self.community.policy_for(who)
                parent = await self._buildable(who, action.job_id, rules)
                await self._run(who, reply, await compose.reroll(self.ledger, parent, action.count), rules)
            case Variations():
                rules = await self.community.policy_for(who)
                parent = await self._buildable(who, action.job_id, rules)
                if parent.kind == JobKind.UPSCALE:
                    # Its request re-renders one image unchanged at 4K: made again, that is four
                    # copies at 4K. Variations of the image it made, as "V1" replied asks.
                    await self._edit(who, Edit(ResultRef(job_id=parent.id), "V1"), reply)
                    return
                composed = await compose.variations(self.ledger, parent, action.count)
                await self._run(who, reply, composed, rules)
            case Upscale():
                await self._upscale(who, action, reply)
            case Cancel():
                await self._cancel(who, action, reply)
            case Delete():
                job = self.policy.result_here(who, await self._job(action.job_id))
                self.policy.may_delete(who, job)
                # Pressed while the rest of the result is posted: its messages are known once
                # it closes (deleted before, part of it stayed up and "Deleted." was said). A
                # moment is waited for, within the 3 s a Discord button has to be answered in.
                job = await compose.finished(self.ledger, job, DELETE_WAIT)
                if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                    raise InvalidRequest(messages.STILL_POSTING)
                await reply.delete(job)
                await self.ledger.mark_deleted(job.id)  # "the latest result" is another one now
                log.info("%s: job %s deleted by %s", who.platform, job.id, who.key)
                await reply.say(messages.DELETED)
            case Info():
                job = self.policy.result_here(who, await self._job(action.job_id))
                await reply.say(await self.community.lineage(job))
            case Usage():
                await reply.say(await self.usage(who))
            case Help():
                await reply.say(self._help(who))
            case History():
                await reply.say(await self._history(who))

    async def _commands(
        self, who: Requester, text: str, reply: Reply, *, empty: bool, alone: bool = False
    ) -> bool:
        """A whole text that is no picture (`usage`, `history`, `help`, `styles`, thanks, a miss,
        a question seedbot answers free, `admin ...`): answered, True. `empty`: a new request,
        not a reply (nothing typed asks for the help; `cancel`, `upscale` or a button's name
        alone, which a reply to a job would be, is explained instead of drawn). `alone`: it
        quotes no images, so a button's word ("again") may be said to the person's latest result
        in this channel, as people do in a DM."""
        # "`usage`", as the help shows it; "/usage" or "!usage", a command typed as text.
        text = _COMMAND_MARK.sub("", unwrapped(text), count=1)
        button_name = as_button_word(text)  # "Neu generieren", as its button shows it: "reroll"
        words = text.split()
        if asks_for_usage(text):
            await reply.say(await self.usage(who))
        elif asks_for_history(text):
            await reply.say(await self._history(who))
        elif asks_for_status(text):
            await reply.say(await self.community.working(who))
        elif asks_for_help(text) or (empty and not words):
            await reply.say(self._help(who))
        elif is_small_talk(text):
            await reply.say(messages.SMALL_TALK)
        elif is_a_miss(text):
            await reply.say(messages.MISSED)
        elif asks_for_video(text):
            await reply.say(messages.NO_VIDEO)
        elif asks_for_description(text):  # of a result, or of nothing sent ("what is this?": the help, above)
            await reply.say(messages.NO_DESCRIBE)
        elif asks_how_to_save(text):
            await reply.say(messages.SAVE_HOW)
        elif asks_for_transparency(text):
            await reply.say(messages.NO_TRANSPARENCY)
        elif not empty and asks_why(text):  # "why is it blurry?" replied: what would help
            await reply.say(messages.MISSED)
        elif asks_about_rights(text):
            await reply.say(messages.RIGHTS)
        elif (styles := await self._style_words(who, text)) is not None:
            await reply.say(styles)
        elif Admin.said(words):
            await reply.say(await self._admin_words(who, words[1:]))
        elif alone and _for_a_result(button_name) and (latest := await self._latest_here(who)):
            await self._edit(who, Edit(ResultRef(job_id=latest.id), button_name), reply)
        elif empty and CANCEL_WORD.fullmatch(button_name):  # not a reply: which job is meant is unknown
            await reply.say(messages.CANCEL_HOW)
        elif empty and UPSCALE_WORDS.fullmatch(button_name):
            await reply.say(messages.UPSCALE_HOW)
        elif empty and VARY_PICK.fullmatch(button_name):  # "V2" with no result: not a prompt
            await reply.say(messages.button_how(messages.action_label("variations"), text.strip()))
        elif empty and UNDO_WORDS.fullmatch(button_name):
            await reply.say(messages.UNDO_HOW)
        elif empty and EDIT_WORD.fullmatch(button_name):
            await reply.say(messages.EDIT_HOW)
        elif empty and (button := button_word(button_name)):
            label = messages.action_label(button.action.__name__.lower())
            await reply.say(messages.button_how(label, button.word))
        else:
            return False
        return True

    async def _latest_here(self, who: Requester) -> Job | None:
        """`who`'s latest result in this channel (its threads too), if one of the last few jobs."""
        for job in await self.ledger.jobs_for_user(who.key, 10):
            if job.platform == who.platform and job.channel_id == who.channel_id and job.shows_result:
                return job
        return None

    async def _history(self, who: Requester) -> str:
        surface = self.surfaces.get(who.platform)
        return await self.community.history(who, surface.link if surface else _no_link)

    async def _admin_words(self, who: Requester, words: list[str]) -> str:
        """`admin ...` typed on any surface, with its own way of naming people."""
        surface = self.surfaces.get(who.platform)
        prefix = " ".join(filter(None, (surface.prefix() if surface else "", "admin")))
        person = surface.person if surface else _nobody
        return await self.admin.words(who, words, lambda word: person(who, word), prefix)

    def _channel(self, who: Requester, word: str) -> str:
        surface = self.surfaces.get(who.platform)
        return (surface.channel if surface else _as_typed)(who, word)  # the CLI: as typed

    def _channel_link(self, who: Requester, channel: str) -> str:
        surface = self.surfaces.get(who.platform)
        return (surface.channel_link if surface else plain_channel)(channel)

    def _listing(self, who: Requester) -> str:
        """The command that lists `who`'s cast: the chat words, or the shell's (no surface)."""
        return "cast list" if who.platform in self.surfaces else f"seedbot cast {who.key}"

    def _help(self, who: Requester) -> str:
        """The surface's help, then what a reply to a result may say (the same everywhere)."""
        surface = self.surfaces.get(who.platform)
        said = surface.help() if surface else messages.help_text("seedbot", flag_help())
        return f"{said}\n{messages.HELP_REPLIES}"

    async def usage(self, who: Requester) -> str:
        """Today's and this month's use, what is left (weighted), resets, the workspace pool."""
        return await self.community.usage_text(who, unlimited=self.policy.is_operator(who))

    def defaults(
        self,
        rules: WorkspacePolicy,
        options: Options,
        style_fields: dict[str, object] | None = None,
        typed_model: str | None = None,
    ) -> dict[str, object]:
        """The workspace's defaults (under the rules read for this request) fitted to the model
        the request will use (`typed_model`, the form's, the style's, or the workspace's), then
        the style's, then the options picked in the form."""
        picked = on_top(style_fields or {}, compose.option_fields(options))
        model = typed_model or picked.get("model")
        return on_top(self.engine.workspaces.defaults(rules, str(model) if model else None), picked)

    async def resolutions(self, who: Requester, options: Options) -> tuple[str, ...]:
        """The resolution tiers a form may suggest to `who` with what it has picked so far: those
        of the model the request would be made with (picked, the style's, the workspace's or the
        bot's). A style that is no more leaves the workspace's; a model that is none, every tier."""
        style_fields: dict[str, object] = {}
        if options.style:
            with contextlib.suppress(InvalidRequest):
                style_fields = Styles.fields(await self.styles.find(who, options.style))
        rules = await self.community.policy_for(who)
        try:
            fields = self.defaults(rules, Options(model=options.model), style_fields)
            return get_model(str(fields.get("model") or self.engine.settings.model)).tiers
        except InvalidRequest:  # a model typed that is none
            return TIERS

    # -- words typed on any surface: the cast, styles ---------------------------------------------

    async def _words(
        self, who: Requester, text: str, reply: Reply, quoted: Attachments, attachments: Attachments
    ) -> bool:
        """`cast …` typed as the text; False for anything else."""
        if is_cast_command(text):
            await self._cast_words(who, text, reply, attachments, quoted=quoted)
            return True
        return False

    async def _style_words(self, who: Requester, text: str) -> str | None:
        """The answer to `styles` or `admin style …` typed as the text, or None."""
        words = text.split()
        first = words[0].lower() if words else ""
        if asks_for_styles(text):
            return await self.styles.listing(who)
        # "style add noir …" without the "admin" the help shows is meant the same (it was drawn).
        bare = first in ("style", "styles") and len(words) > 1 and words[1].lower() in STYLE_VERBS
        if bare or (first == "admin" and len(words) > 1 and words[1].lower() in ("style", "styles")):
            rest = text.split(None, 1)[1] if bare else text.split(None, 2)[2] if len(words) > 2 else ""
            # An admin command's refusal is its answer, free of any charge note.
            return await self.admin.answer(
                who, "admin style", lambda admin: self.admin.style_command(admin, rest)
            )
        return None

    async def _cast_words(
        self,
        who: Requester,
        text: str,
        reply: Reply,
        attachments: Attachments,
        *,
        quoted: Attachments | None = None,
        edit: Edit | None = None,
    ) -> None:
        verb, name, server, pick = Cast.parse(text)
        command = CastCommand(verb, name, server, attachments, pick=pick)
        await self._cast_command(who, command, reply, quoted=quoted, edit=edit)

    async def _cast_command(
        self,
        who: Requester,
        command: CastCommand,
        reply: Reply,
        *,
        quoted: Attachments | None = None,
        edit: Edit | None = None,
    ) -> None:
        verb, name, server = command.verb.lower(), command.name, command.server
        try:
            if verb in ("list", "ls", "show"):
                await reply.say(await self.cast.listing(who, server=server))
            elif verb in ("remove", "delete", "rm") and name:
                await reply.say(await self.cast.remove(who, name, server=server))
            elif verb in ("save", "add") and name:
                check_name(name, "cast")  # before any download
                if edit is None and command.result is not None:
                    edit = Edit(command.result, "")
                image = await self._cast_image(who, command.pick, command.attachments, quoted, edit)
                await reply.say(await self.cast.save(who, name, image, server=server))
            else:
                await reply.say(messages.cast_help())
        except SeedbotError as exc:
            # It costs nothing, wherever it was typed ("cast save x" in a message too): its
            # refusal is its answer, as an admin command's is, with no "You were not charged."
            log.info("%s: cast %s by %s refused: %s", who.platform, verb, who.key, exc)
            await _tell(
                reply, messages.nothing_saved(exc.user_text) if verb in ("save", "add") else exc.user_text
            )

    async def _cast_image(
        self,
        who: Requester,
        pick: int | None,
        attachments: Attachments,
        quoted: Attachments | None,
        edit: Edit | None,
    ) -> ImageInput:
        """The one image `cast save` keeps: an attachment, or one of a result's (#N)."""
        images: list[ImageInput] = []
        if len(attachments):
            images = await attachments.load()
        elif quoted is not None and len(quoted):
            images = await quoted.load()
        elif edit is not None:
            parent = await self._target_of(who, edit)
            if parent is not None:
                await self.engine.images_kept(parent.id)
                images = [
                    dataclasses.replace(img, name=messages.result_name(i, parent.id))
                    for i, img in enumerate(await compose.made(self.ledger, parent), start=1)
                ]
                if not images and parent.images_delivered:
                    raise InvalidRequest(messages.RESULT_EXPIRED)
            elif edit.fallback is not None and len(edit.fallback):
                images = await edit.fallback.load()
        if not images:
            raise InvalidRequest(messages.CAST_NEEDS_IMAGE)
        if pick is not None:
            if not 1 <= pick <= len(images):
                raise InvalidRequest(messages.no_such_image(pick, len(images)))
            return images[pick - 1]
        if len(images) > 1:
            raise InvalidRequest(messages.CAST_ONE_IMAGE)
        return images[0]

    # -- composing -------------------------------------------------------------------------------

    async def _styled(
        self, who: Requester, parsed: ParsedText, options: Options
    ) -> tuple[ParsedText, dict[str, object]]:
        """The text with its style's words added, and the style's defaults (none without one)."""
        name = parsed.style or (options.style or "").strip() or None
        if name is None:
            return parsed, {}
        style = await self.styles.find(who, name)
        return dataclasses.replace(parsed, prompt=styled_prompt(parsed.prompt, style)), Styles.fields(style)

    async def _ask(self, who: Requester, ask: Ask, reply: Reply) -> None:
        text, links = image_links(ask.text)
        linked = LinkedImages(self.fetcher, links)
        parsed = parse_text(text, picks=False)  # flag errors before any download
        attached = len(ask.quoted) + len(ask.attachments) + len(linked)
        if attached and UPSCALE_WORDS.fullmatch(text) and not ask.options.refs:
            if attached > 1:  # each is its own 4K job: which one is meant is not said
                raise InvalidRequest(messages.UPSCALE_ONE_IMAGE)
            await self._upscale_upload(who, await _load(ask.quoted, ask.attachments, linked), reply)
            return
        if attached and asks_for_video(text):  # "animate this" with a photo
            await reply.say(messages.NO_VIDEO)
            return
        if attached and asks_for_description(text):  # "describe this" with a photo
            await reply.say(messages.NO_DESCRIBE)
            return
        if attached == 1 and asks_for_variations(parsed.prompt):  # of the image sent
            count = parsed.count or ask.options.count or compose.VARIATIONS_COUNT
            parsed = dataclasses.replace(parsed, prompt=messages.VARIATIONS_PROMPT, count=count)
        if not attached and asks_for_a_surprise(parsed.prompt):  # "surprise me --ar 16:9"
            parsed = dataclasses.replace(parsed, prompt=random.choice(messages.SURPRISES))
        parsed, style_fields = await self._styled(who, parsed, ask.options)
        if (attached or parsed.refs or ask.options.refs) and not clean_prompt(parsed.prompt):
            raise InvalidRequest(messages.IMAGE_NEEDS_WORDS)  # an image alone: say what to do with it
        rules = await self.community.policy_for(who)  # the workspace's settings: once a request
        defaults = self.defaults(rules, ask.options, style_fields, parsed.model)
        # Saved cast images first (missing names are refused before any download), then the rest.
        cast = await self.cast.resolve(
            who,
            (*ask.options.refs, *parsed.refs),
            alongside=attached,
            listing=self._listing(who),
        )
        images = await _load(ask.quoted, ask.attachments, linked)
        await self._run(who, reply, compose.new(parsed, [*cast, *images], defaults), rules)

    async def _edit(self, who: Requester, edit: Edit, reply: Reply) -> None:
        if edit.result != ResultRef() and not len(edit.attachments):  # "cancel", "upscale #2"
            # "`again`" as the help shows it; "the second one" as "#2"; "Neu generieren", the
            # button's name in the person's language, as "reroll"; "ok but darker" as "darker"
            said = without_chatter(ordinals_as_picks(unwrapped(edit.text)))
            edit = dataclasses.replace(edit, text=as_button_word(said))
            # Each is that action's own turn: refused in its words, as its button would be.
            if CANCEL_WORD.fullmatch(edit.text):
                await self._handle(Turn(who, Cancel(edit.result), "cancel"), reply)
                return
            if words := UPSCALE_WORDS.fullmatch(edit.text):
                pick = int(words["pick"]) if words["pick"] else None
                await self._upscale(who, Upscale(edit.result, pick), reply)
                return
            if button := button_word(edit.text):
                await self._pressed(who, edit.result, button.action, reply, count=button.count)
                return
            if UNDO_WORDS.fullmatch(edit.text):
                await reply.say(await self._before(who, edit.result))
                return
            if EDIT_WORD.fullmatch(edit.text):  # "edit", "fix it": what should change?
                raise InvalidRequest(messages.EDIT_HOW)
        vary = VARY_PICK.fullmatch(edit.text) if edit.result != ResultRef() else None
        text, links = image_links(f"#{vary['pick']}" if vary else edit.text)
        linked = LinkedImages(self.fetcher, links)
        parsed = parse_text(text)  # flag errors before any download
        if edit.result != ResultRef() and not len(edit.attachments) and asks_for_a_surprise(parsed.prompt):
            await self._ask(who, Ask(edit.text), reply)  # a new picture, not this one changed
            return
        options_alone = not parsed.prompt and not vary  # "make it portrait": a remake, if ours
        if vary:  # "V2": variations of that image, as "variations" sent with one image makes
            parsed = dataclasses.replace(
                parsed, prompt=messages.VARIATIONS_PROMPT, count=compose.VARIATIONS_COUNT
            )
        rules = await self.community.policy_for(who)  # the workspace's settings: once a request
        parsed, style_fields = await self._styled(who, parsed, Options())
        attached = len(edit.attachments) + len(linked)
        # A reply to seedbot's words that are no result ("Send it like this: …", the help) with
        # a prompt and no image is a new request, as the same words sent afresh would be.
        # So is one to a job that made nothing (failed or cancelled): the prompt, tried again.
        afresh = (
            not attached
            and not vary
            and bool(parsed.prompt)
            and not parsed.picks
            and not speaks_of_an_image(text)  # "make it blue": which image is meant is not there
        )
        parent = await self._edited(
            who, edit.result, edit.fallback, rules, attached=attached, afresh=afresh and edit.fallback is None
        )
        if parent is not None and afresh and _made_nothing(parent):
            parent = None
        if parent is None:
            fallback = edit.fallback or NoAttachments()
            if (options_alone or afresh) and (typed := parse_text(text, picks=False)).prompt:
                # "make it portrait" of someone's photo is that edit, not a remake of one of ours
                parsed, style_fields = await self._styled(who, typed, Options())
            cast = await self.cast.resolve(
                who, parsed.refs, alongside=len(fallback) + attached, listing=self._listing(who)
            )
            images = _picked(await _load(fallback, edit.attachments, linked), parsed.picks, len(fallback))
            defaults = self.defaults(rules, Options(), style_fields, parsed.model)
            await self._run(who, reply, compose.new(parsed, [*cast, *images], defaults), rules)
            return
        if parent.status in (JobStatus.QUEUED, JobStatus.RUNNING) and edit.result.job_id is None:
            await reply.accepted(messages.WAITING_FOR_PARENT)
        # The result's own images come first (those picked, else all it showed): counted with
        # the new ones, so that too many are refused before any is downloaded. A batch asked
        # for again in other options uses none of them.
        remake = compose.remakes_batch(parsed, parent.images_delivered, attached + len(parsed.refs))
        kept = 0 if remake else len(parsed.picks) or parent.images_delivered
        cast = await self.cast.resolve(
            who, parsed.refs, alongside=kept + attached, listing=self._listing(who)
        )
        images = [*cast, *await _load(edit.attachments, linked, alongside=kept + len(cast))]
        await self.engine.images_kept(parent.id)
        composed = await compose.edit(
            self.ledger, parent, parsed, images, wait=self.engine.parent_wait, style=style_fields.get("style")
        )
        await self._run(who, reply, composed, rules)

    async def _before(self, who: Requester, ref: ResultRef) -> str:
        """Where the image a result was made from is ("undo": no edit replaced it)."""
        job = self.policy.result_here(who, await self._target_of(who, Edit(ref, "")))
        parent = await self._job(job.parent_id) if job.parent_id else None
        if parent is None:
            return messages.NOTHING_BEFORE
        surface = self.surfaces.get(who.platform)
        link = await surface.link(parent) if surface and parent.result_message_ids else None
        return messages.made_from_still_there(link or parent.id)

    async def _edited(
        self,
        who: Requester,
        ref: ResultRef,
        fallback: Attachments | None,
        rules: WorkspacePolicy,
        *,
        attached: int = 0,
        wait: bool = True,
        afresh: bool = False,
    ) -> Job | None:
        """The result an Edit of `ref` builds on, which `who` may build on (by button, form or
        reply alike); None when it edits `fallback` (a message's own images) or `attached`
        images instead, or is a new request (`afresh`). Refused when there is nothing to edit."""
        parent = await self._target_of(who, Edit(ref, ""), wait=wait)
        if parent is None:
            if not (fallback is not None and len(fallback)) and not attached and not afresh:
                raise InvalidRequest(
                    messages.NO_IMAGES_IN_MESSAGE if fallback is not None else messages.NOT_A_RESULT
                )
            return None
        self.policy.may_build_on(who, parent, rules.buttons)
        return parent

    async def _open_edit(self, who: Requester, open_edit: OpenEdit, reply: Reply) -> None:
        """Edit's form, refused at once where the Edit itself would be (a form answers within
        seconds: no waiting for a job that is just starting)."""
        rules = await self.community.policy_for(who)
        parent = await self._edited(who, open_edit.result, open_edit.fallback, rules, wait=False)
        await reply.edit_form(EditForm(parent.id, parent.prompt) if parent else EditForm(None, ""))

    async def _upscale(self, who: Requester, upscale: Upscale, reply: Reply) -> None:
        parent = await self._target_of(who, Edit(upscale.result, ""))
        parent = self.policy.result_here(who, parent)
        rules = await self.community.policy_for(who)  # the workspace's settings: once a request
        self.policy.may_build_on(who, parent, rules.buttons)
        await self.engine.images_kept(parent.id)
        await self._run_upscale(who, reply, await compose.upscale(self.ledger, parent, upscale.pick), rules)

    async def _upscale_upload(self, who: Requester, images: list[ImageInput], reply: Reply) -> None:
        """ "upscale" sent with one image: that image, as the Upscale button does a result's."""
        rules = await self.community.policy_for(who)
        await self._run_upscale(who, reply, compose.upscale_upload(images[0]), rules)

    async def _run_upscale(
        self, who: Requester, reply: Reply, composed: compose.Composed, rules: WorkspacePolicy
    ) -> None:
        try:
            self.engine.check(composed.request)  # free: is any host able to render 4.5 at 4K?
        except NoProviderAvailable as exc:
            raise InvalidRequest(messages.UPSCALE_NO_4K, detail=str(exc)) from None
        await self._run(who, reply, composed, rules)

    async def _cancel(self, who: Requester, cancel: Cancel, reply: Reply) -> None:
        ref = cancel.job
        if ref.thread is not None and ref.job_id is None and ref.message_id is None:
            channel, thread = ref.thread  # in a thread: the job at work there, not the last result
            job = await self.ledger.working_in_thread(who.platform, channel, thread)
            if job is None and await self.ledger.latest_in_thread(who.platform, channel, thread):
                raise InvalidRequest(messages.CANCEL_FINISHED)  # its jobs are done: nothing to stop
        else:
            job = await self._target_of(who, Edit(ref, ""))
        job = self.policy.result_here(who, job)
        self.policy.may_cancel(who, job)
        if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise InvalidRequest(messages.CANCEL_FINISHED)
        if not await self.engine.cancel(job, by_owner=job.user_key == who.key):
            fresh = await self.ledger.get_job(job.id)
            finished = fresh is None or fresh.status not in (JobStatus.QUEUED, JobStatus.RUNNING)
            finished = finished or self.engine.delivering(job.id)  # its images are being posted
            if fresh is not None and fresh.status == JobStatus.CANCELLED:  # pressed twice
                raise InvalidRequest(messages.CANCELLED_ALREADY)
            raise InvalidRequest(messages.CANCEL_FINISHED if finished else messages.CANCEL_ELSEWHERE)
        log.info("%s: job %s cancelled by %s", who.platform, job.id, who.key)
        closed = await self.ledger.get_job(job.id)  # streamed images it showed stay charged
        await reply.say(messages.cancel_done(job.id, closed.images_delivered if closed else 0))

    async def _pressed(
        self,
        who: Requester,
        ref: ResultRef,
        button: type[Reroll | Variations | Delete | Info],
        reply: Reply,
        *,
        count: int | None = None,
    ) -> None:
        """A button's name replied to a result: that button, pressed on it, under its rules
        (`count`: Re-roll's "3 more")."""
        job = self.policy.result_here(who, await self._target_of(who, Edit(ref, "")))
        if button is Delete and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise InvalidRequest(messages.PARENT_NOT_READY)  # Delete is a result's; Cancel stops a job
        action: Reroll | Variations | Delete | Info = button(job.id)
        if button in (Reroll, Variations):
            action = button(job.id, count)  # "3 more", "4 more like this"
        await self._handle(Turn(who, action, button.__name__.lower()), reply)

    async def _target_of(self, who: Requester, edit: Edit, *, wait: bool = True) -> Job | None:
        ref = edit.result
        if ref.job_id is not None:
            return self.policy.result_here(who, await self._job(ref.job_id))
        if ref.message_id is not None:
            job = await self.ledger.job_for_message(who.platform, ref.message_id)
            deadline = asyncio.get_running_loop().time() + STARTING_WAIT
            while wait and job is None and (who.platform, ref.message_id) in self._starting:
                if asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.05)
                job = await self.ledger.job_for_message(who.platform, ref.message_id)
            return job
        if ref.thread is not None:
            return await self._thread_job(who.platform, *ref.thread)
        return None

    async def _thread_job(self, platform: str, channel: str, thread: str) -> Job | None:
        """The thread's latest result, else the job at work there. Read in the order a job moves
        (at work, then finished), so one that finishes between the two reads is still found. A
        job at work whose result is up already (still being posted, linked, kept) is the latest
        once it closes: the reply meant it ("make it darker", "cast save mia" edited and saved
        the result before it)."""
        working = await self.ledger.working_in_thread(platform, channel, thread)
        if working is not None and self.engine.shown(working.id):
            working = await compose.finished(self.ledger, working, STARTING_WAIT)
            if working.shows_result:
                return working
        return await self.ledger.latest_in_thread(platform, channel, thread) or working

    async def recent_results(self, who: Requester, limit: int = 5) -> list[tuple[Job, str]]:
        """`who`'s latest delivered results on this surface, newest first, with when each was
        made (a surface's own page of them: a home tab, a profile)."""
        return await self.community.recent_results(who, limit)

    async def in_thread(self, platform: str, channel: str, thread: str) -> bool:
        """A thread where one of our results is, or is being made (replies there are for us)."""
        return await self._thread_job(platform, channel, thread) is not None

    async def first_sighting(self, key: str) -> bool:
        """True the first time an event key is seen by any process (platform retries), or when
        the database can't say: the surface's claim in memory still dedupes within this process,
        and the turn's own steps tell the person to try again if the database is still down (an
        event acked and dropped on the error was never answered)."""
        try:
            return await self.ledger.first_sighting(key)
        except DATABASE_ERRORS as exc:
            if not database_down(exc):
                raise  # a bug, not an outage
            log_problem(
                log,
                logging.WARNING,
                "could not check event %s against other processes; answering it",
                key,
                exc=exc,
                expected=database_down,
            )
            return True

    async def _job(self, job_id: str) -> Job | None:
        return await self.ledger.get_job(job_id) if is_job_id(job_id) else None

    async def _buildable(self, who: Requester, job_id: str, rules: WorkspacePolicy) -> Job:
        """A result `who` may re-roll or vary here (under the workspace's `rules`)."""
        job = self.policy.result_here(who, await self._job(job_id))
        self.policy.may_build_on(who, job, rules.buttons)
        return job

    async def where(self, job_id: str) -> Job | None:
        """The job a button belongs to (surfaces answer in its thread)."""
        return await self._job(job_id)

    # -- what a surface that serves images itself shows (the web playground) ----------------------

    async def recent(self, who: Requester, limit: int = 24) -> list[Job]:
        """`who`'s newest jobs on this surface, newest first (a history gallery)."""
        jobs = await self.ledger.jobs_for_user(who.key, limit=limit)
        return [job for job in jobs if job.platform == who.platform]

    async def images(self, who: Requester, job_id: str) -> list[ImageInput]:
        """A result's images as kept for edits (none once past SEEDBOT_IMAGE_RETENTION_DAYS), for a
        surface that serves them after a restart. Only results of `who`'s own surface."""
        job = self.policy.result_here(who, await self._job(job_id))
        if job.deleted_at is not None:
            return []
        await self.engine.images_kept(job.id)
        return await compose.made(self.ledger, job)

    # -- running a job ---------------------------------------------------------------------------

    async def _run(
        self, who: Requester, reply: Reply, composed: compose.Composed, rules: WorkspacePolicy
    ) -> None:
        admitted = await self.engine.admit(composed.request, who, rules)  # free: refusals cost nothing
        unlimited = self.policy.is_operator(who)
        if await self.community.fits(who, admitted.cost, unlimited=unlimited, policy=admitted.policy):
            # Shown at once; when the quota says no, the engine explains and nothing is posted.
            with i18n.use(who.public_locale):
                await reply.accepted(messages.STARTING)
        status = reply.target().message_id
        starting = (who.platform, status) if status is not None else None
        if starting is not None:
            self._starting.add(starting)
        surface = self.surfaces.get(who.platform)
        with i18n.use(who.public_locale):  # its status and its result are for everyone there
            legend = composed.legend()
            prompt = messages.shown_prompt(admitted.validated.prompt)
        relay = ProgressRelay(
            reply.progress,
            min_interval=surface.progress_interval if surface else 2.0,
            footer=legend,
            locale=who.public_locale,
        )

        async def up(count: int, more: bool, ids: tuple[str, ...]) -> None:
            # A reply to the result can come before the engine has linked its messages (the
            # first of a batch while the rest uploads): it waits for the link, as a reply to a
            # brand-new status message waits for its job.
            new = {(who.platform, message_id) for message_id in ids}
            posted.update(new)
            self._starting.update(new)

        async def deliver(result: GenerationResult) -> Delivery:
            await relay.stop()
            left = await self.engine.left_after(who, result)
            with i18n.use(who.public_locale), listening(up):
                delivery = await reply.result(Shown(result, prompt, legend, left, who.display_name))
            await up(0, False, delivery.message_ids)
            return delivery

        async def stream(job_id: str, index: int, image: GeneratedImage) -> bool:
            with i18n.use(who.public_locale):
                return await reply.image(Arrived(job_id, image, index, admitted.validated.count, prompt))

        posted: set[tuple[str, str]] = set()
        job_id = new_job_id()
        reply.working(job_id)
        try:
            await self.engine.run(
                admitted,
                who,
                deliver=deliver,
                target=reply.target(),
                kind=composed.kind,
                parent_id=composed.parent_id,
                progress=relay,
                stream=stream,
                pick=composed.pick if composed.kind == JobKind.UPSCALE else None,
                job_id=job_id,
            )
        finally:
            if starting is not None:
                self._starting.discard(starting)
            self._starting.difference_update(posted)
            await relay.stop()

    async def _interrupted(self, who: Requester, reply: Reply) -> None:
        """A job cut short by shutdown: either refunded, or left running at a provider that the
        next process resumes (its result then comes to the same place)."""
        message_id = reply.target().message_id
        resumes = False
        if message_id is not None:
            for job in await self.ledger.jobs_for_user(who.key, limit=20):
                if job.message_id != message_id:
                    continue
                if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                    # A guest is answered only through the turn's reply, which a restart loses:
                    # the next process refunds the job instead of posting it.
                    resumes = not who.guest
                elif job.images_delivered and job.error_kind == "cancelled":
                    # A streamed batch cut short: what reached the user stays (and is charged).
                    await reply.refuse(messages.restarted_partial(job.images_delivered, job.images_requested))
                    return
                break
        # A job that resumes says so in its status, for everyone there; a refund is the person's.
        with i18n.use(who.public_locale if resumes else who.locale):
            await reply.interrupted(
                messages.RESUMES_AFTER_RESTART if resumes else messages.SHUTTING_DOWN, resumes=resumes
            )


async def _tell(reply: Reply, text: str) -> None:
    try:
        await reply.refuse(text)
    except Exception:
        log.warning("could not tell the user: %s", text, exc_info=True)


def _for_a_result(text: str) -> bool:
    """Words that only make sense said to a result: a button's ("again", "more like this",
    "info"; not Delete, which is never guessed), Upscale's, "V2". (Read without the flag parser,
    which a new request's text enters once, in `_ask`.)"""
    if (button := button_word(text)) is not None:
        return button.action is not Delete
    return UPSCALE_WORDS.fullmatch(text) is not None or VARY_PICK.fullmatch(text) is not None


def _made_nothing(job: Job) -> bool:
    """A job that ended without images: failed, or cancelled before any."""
    return job.status in (JobStatus.FAILED, JobStatus.CANCELLED) and not job.images_delivered


def _picked(images: list[ImageInput], picks: tuple[int, ...], quoted: int) -> list[ImageInput]:
    """The images a reply's picks name, first and in the order named, then the ones it attached;
    picks name the quoted message's images (someone's photos edited), or, with none quoted, the
    attached ones. (Ignored, "#2 make it night" sent every photo, and "the hat from #3 on #1"
    named them in an order the images were not sent in.)"""
    among = images[:quoted] if quoted else images
    if not picks or not among:  # nothing to pick from: the words are a prompt of their own
        return images
    for pick in picks:
        if not 1 <= pick <= len(among):
            raise InvalidRequest(messages.no_such_image(pick, len(among)))
    chosen = [among[pick - 1] for pick in picks]
    return chosen + (images[quoted:] if quoted else [])


async def _load(*sources: Attachments, alongside: int = 0) -> list[ImageInput]:
    """References in order (a quoted message's images, the attachments, linked images), after
    `alongside` others; the count is checked before anything is downloaded."""
    total = alongside + sum(len(source) for source in sources)
    check_reference_count(total)
    images: list[ImageInput] = []
    for source in sources:
        images += await source.load(alongside=total - len(source))
    return images


def _requester_of(job: Job) -> Requester:
    platform, _, user_id = job.user_key.partition(":")
    return Requester(
        platform=platform,
        user_id=user_id,
        workspace_id=job.workspace_id,
        channel_id=job.channel_id,
        locale=i18n.locale_of(job.request),
        workspace_locale=i18n.locale_of(job.request, "workspace_locale")
        if job.request.get("workspace_locale")
        else None,
    )

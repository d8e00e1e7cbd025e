"""Whole messages that are no prompt: what people type to a bot besides a picture's description.

Greetings and help, usage, history, status, thanks, a miss ("wrong"); and, replied to a result,
what people say for its buttons ("again", "3 more", "in 4k", "V2", "undo"). Each is matched
against the whole text, so the same words inside a prompt ("help me find a cat", "a thank-you
card", "undo the crop") are still drawn. A match is that answer (free) or that button, never an
image of the words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bot import i18n, messages
from bot.conversation.turns import Delete, Info, Reroll, Variations
from bot.numbers import COUNT_PATTERN, count_of
from bot.request.flags import AGAIN_WORDS

__all__ = [
    "CANCEL_WORD",
    "EDIT_WORD",
    "UNDO_WORDS",
    "UPSCALE_WORDS",
    "VARY_PICK",
    "ButtonWord",
    "as_button_word",
    "asks_about_rights",
    "asks_for_a_surprise",
    "asks_for_description",
    "asks_for_help",
    "asks_for_history",
    "asks_for_status",
    "asks_for_styles",
    "asks_for_transparency",
    "asks_for_usage",
    "asks_for_variations",
    "asks_for_video",
    "asks_how_to_save",
    "asks_why",
    "button_word",
    "is_a_miss",
    "is_small_talk",
    "ordinals_as_picks",
    "speaks_of_an_image",
    "without_chatter",
]

_END = r"\s*[?？!！.。]*\s*"  # a sentence's ending, in Latin or CJK punctuation

# A reply that is only "cancel", "upscale [#N]" or the name of a result's button is that action,
# not an edit prompt (a drawing of the word "delete", charged).
CANCEL_WORD = re.compile(
    r"\s*(?:cancel|stop|abort)(?:\s+(?:it|that|this|all|everything))?(?:\s+please)?\s*[.!]*\s*", re.IGNORECASE
)
# "upscale #2 to 4K", and what people say for it: "in 4k", "make it 4K", "higher resolution",
# "in HD", "better quality", "enhance", Midjourney's "U2".
UPSCALE_WORDS = re.compile(
    r"\s*(?:upscale|enhance|u(?=\d)|(?:make\s+(?:it|this)\s+)?(?:(?:in|to|at)\s+)?"
    r"(?=4k|hi-?res|higher|high[\s-]+res|u?hd\b|better\s+quality|full\s+res))"
    r"(?:\s*(?:image\s*)?#?\s*(?P<pick>\d{1,2})|\s+(?:it|this|that|all(?:\s+of\s+them)?|both|them|each(?:\s+one)?))?"
    r"(?:\s*(?:to|in|at)?\s*(?:4k|hi-?res|u?hd|high[\s-]+res(?:olution)?|(?:higher|better)\s+(?:res(?:olution)?|quality)"
    r"|full\s+res(?:olution)?))?(?:,?\s+please)?\s*[.!]?\s*",
    re.IGNORECASE,
)
# A button by its name, or by what people say for it ("again", "one more", "more like this",
# "delete this"), in seedbot's languages too. "delete the sky" stays an edit.
_BUTTONS = re.compile(
    r"\s*(?P<word>"
    r"(?P<reroll>(?:(?:make|give me|generate|draw|create|show me|send|do)\s+)?"
    rf"(?:(?P<more>{COUNT_PATTERN}) more(?: (?:images?|pictures?|pics|ones?))?|another (?P<another>{COUNT_PATTERN})|"
    r"once more|one more(?: time)?|another(?: one| version| take| try)?|more)|"
    rf"try another|(?:try\s+|show\s+me\s+)?something\s+(?:else|different)|(?:the\s+)?same(?:\s+(?:thing|one))?|"
    rf"{AGAIN_WORDS})|"
    rf"(?P<variations>(?:(?P<similar>{COUNT_PATTERN})\s+(?:more\s+)?(?=more|variations?|similar|versions?))?"
    r"(?:variations?|vary|more like (?:this|that|it)|similar ones|versions?))|"
    r"(?P<delete>delete(?: (?:it|this|that|them|these|both|all(?: of them)?|everything))?|"
    r"remove (?:it|this|that|them|these|both)(?: images?| pictures?)?)|"
    # Questions about how it was made ("what model is this?", "seed?"): what Info tells.
    r"(?P<info>info|details|prompt|settings|seed|parameters|params|cost|price|"
    r"(?:how\s+much|what)\s+did\s+(?:this|it|that)\s+cost|"
    r"(?:what|which)(?:'s| is| was| were)? (?:the )?(?:prompt|model|seed|settings|parameters|size|resolution)"
    r"(?: (?:is (?:this|it|that)|was (?:this|it|that)|did you use|was used|were used))?|"
    r"how (?:was (?:this|it|that) made|did you make (?:this|it|that)))"
    rf")(?:\s+(?:please|pls))?{_END}",
    re.IGNORECASE,
)
_PRESSED: dict[str, type[Reroll | Variations | Delete | Info]] = {
    "reroll": Reroll,
    "variations": Variations,
    "delete": Delete,
    "info": Info,
}


@dataclass(frozen=True, slots=True)
class ButtonWord:
    action: type[Reroll | Variations | Delete | Info]
    word: str  # as typed, to say back ("reply `again` to it")
    count: int | None = None  # "3 more", "another four", "4 more like this" (else the button's)


# Midjourney's "V2", and "vary #2", "variations of image 2": variations of one image of a batch
# (Variations makes a new batch of the whole request).
VARY_PICK = re.compile(
    r"\s*(?:v\s*|(?:vary|variations?(?:\s+(?:of|on))?|more\s+like)\s+(?:image\s*)?)#?\s*(?P<pick>\d{1,2})"
    rf"(?:\s+(?:please|pls))?{_END}",
    re.IGNORECASE,
)

# "The second one", "the 3rd image": how people point at one image of a batch in a reply. Read as
# the pick "#2", so "upscale the second one" is Upscale #2 and "make the first one night" an
# edit of image 1. Only with "the" before it and "one", "image" or "picture" after it: "the first
# snow" and "add a second one" are words.
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_ORDINAL_PICK = re.compile(
    rf"\bthe\s+(?:({'|'.join(_ORDINALS)})|(\d{{1,2}})(?:st|nd|rd|th))\s+(?:one|image|picture|pic|photo)\b",
    re.IGNORECASE,
)


def ordinals_as_picks(text: str) -> str:
    """The text with "the second one" as "#2"."""

    def pick(said: re.Match[str]) -> str:
        return f"#{_ORDINALS.index(said[1].lower()) + 1 if said[1] else int(said[2])}"

    return _ORDINAL_PICK.sub(pick, text)


# "undo" replied to an edit: the image before it is still there (nothing to undo: no edit
# replaces the image it was made from).
UNDO_WORDS = re.compile(
    rf"\s*(?:undo(?: (?:it|that|this))?|go back(?: to the (?:previous|last|original) one)?|revert(?: it)?|"
    rf"previous(?: (?:one|version))?|back){_END}",
    re.IGNORECASE,
)

# "4 versions of this": what is left of a request that says only how many of the image sent.
_THIS = re.compile(
    r"\s*(?:this|that|it|this one|(?:this|the) (?:image|picture|photo|pic))\s*[.!]?\s*", re.IGNORECASE
)


def asks_for_variations(prompt: str) -> bool:
    """Whether a prompt sent with one image asks for variations of it ("variations", "more like
    this", or "this" once "4 versions of" is read as the count)."""
    button = button_word(prompt)
    return (button is not None and button.action is Variations) or _THIS.fullmatch(prompt) is not None


# A result's buttons by the name each shows, in every language seedbot speaks: people type what
# they see ("Neu generieren", "再生成", "Hochskalieren #2"). Read from the catalogs, so a new or
# renamed label is known without a word list to keep beside it.
_LABELS = (
    ("BUTTON_REROLL", "reroll"),
    ("BUTTON_VARIATIONS", "variations"),
    ("BUTTON_EDIT", "edit"),
    ("BUTTON_DELETE", "delete"),
    ("BUTTON_INFO", "info"),
    ("BUTTON_UPSCALE", "upscale"),
    ("BUTTON_CANCEL", "cancel"),
)
_LABEL_SAID = re.compile(r"\s*(?P<name>[^#]{1,30}?)\s*(?P<pick>#\s*\d{1,2})?[\s.!?！？。]*")
_LABEL_MAX = 40  # a name, a pick and a full stop


@functools.cache
def _button_names() -> dict[str, str]:
    """Each button's name, case-folded, in each language -> the English word for it. Compiled
    the first time a reply is not an English button word (the catalogs: ~80 ms, once)."""
    names: dict[str, str] = {}
    for locale in i18n.LOCALES:
        with i18n.use(locale):
            for constant, word in _LABELS:
                names.setdefault(str(getattr(messages, constant)).casefold(), word)
    return names


def as_button_word(text: str) -> str:
    """A button's name in any of seedbot's languages, as its button shows it (maybe with the
    image, "Hochskalieren #2"), as the English word a reply is read in ("upscale #2"); any other
    text as it is."""
    # A name is at most 30 characters: a longer text is none (and is not read: the pattern's
    # overlapping spaces took seconds on a long run of them).
    said = _LABEL_SAID.fullmatch(text.strip()) if len(text.strip()) <= _LABEL_MAX else None
    if said is None or _BUTTONS.fullmatch(text):
        return text
    word = _button_names().get(said["name"].casefold())
    if word is None:
        return text
    return f"{word} {said['pick']}" if said["pick"] else word


# "Edit", "change it", "fix it" replied alone: no change is said; asked what should change.
EDIT_WORD = re.compile(
    r"\s*(?:edit|change|modify|tweak|fix|alter)(?:\s+(?:it|this|that|them|the\s+image))?(?:\s+please)?"
    r"\s*[.!?]*\s*",
    re.IGNORECASE,
)


def button_word(text: str) -> ButtonWord | None:
    """The result's button a whole message names, if it names one."""
    said = _BUTTONS.fullmatch(text)
    if said is None:
        return None
    action = next(_PRESSED[name] for name in _PRESSED if said[name])
    how_many = said["more"] or said["another"] or said["similar"]
    return ButtonWord(action, said["word"], count_of(how_many) or None if how_many else None)


# What people type to a bot they have just met, meaning "what do you do?" (and a command line's
# habit). The word in each of seedbot's languages, since no one wants an image of "Hilfe".
# A greeting, or a question about the bot itself ("hi", "hello seedbot", "which model are you?"),
# gets the help too: the first thing people say, and no picture of "hello".
_HELP = re.compile(
    r"\s*(?:help|--help|-h|\?|help me|help please|please help|commands|what can you do|"
    r"how does (?:this|it) work|how do i use (?:this|it|you)|ayuda|hilfe|aide|ajuda|"
    r"(?:(?:hi|hey|hello|hiya|yo|howdy|good (?:morning|afternoon|evening)|hallo|bonjour|salut|hola|"
    r"ol[aá]|oi|こんにちは|你好|您好)(?: there)?(?:,?\s*seedbot)?|about|version|ping|models?|settings|"
    r"(?:which|what) models?(?: are you| do you (?:use|have))?|who are you|what are you)"
    # "How do I…?", "can you draw?", "what is this?", and the "test" people send a new bot: the
    # help says what to do, and that the bot is there (an image of "test" would be charged).
    r"|how (?:do|can|should) i (?:use|make|create|generate|draw|edit|change|set|pick|choose|upscale|"
    r"save|delete|cancel|get|start)\b[^.!?]*|how to use(?: (?:this|it|you|seedbot|the bot))?"
    r"|(?:can|could) you (?:draw|make|generate|create|edit|do)(?: (?:images?|pictures?|photos?|pics|art|"
    r"anything|things|drawings))?|what (?:can|do) you (?:do|draw|make|generate|create)|what(?:'s| is) this(?: bot)?"
    r"|test(?:ing)?(?: (?:test|1 ?2 ?3|123))?|are you (?:there|working|alive|online|up|awake)|anyone (?:there|home)"
    r"|is (?:this|it|the bot|seedbot) (?:working|on|alive|online)|[/!.]help|/?start|(?:what are the )?"
    r"(?:commands|options|flags|examples?|tutorial|guide)"
    rf"|ヘルプ|使い方|帮助|怎么用){_END}",
    re.IGNORECASE,
)
# "How much do I have left?" in the words people use for it, in seedbot's languages too, and as
# people ask it ("how many images can I make today?", "credits left?", "what's my limit?").
_ALLOWANCE = r"(?:credits?|images?|pictures?|pics|generations?|quota)"
_USAGE = re.compile(
    r"\s*(?:(?:my\s+)?(?:usage|quota|credits?|balance|limits?|nutzung|guthaben|kontingent|uso|saldo|"
    r"cuota|cota|créditos|utilisation|crédits|solde|使用量|残り|クレジット|用量|额度|余额|配额)|"
    rf"{_ALLOWANCE}\s+(?:left|remaining)|remaining\s+{_ALLOWANCE}|"
    rf"how\s+(?:many|much)(?=.*\b(?:{_ALLOWANCE}|left|remaining|make|generate)\b)(?:\s+more)?(?:\s+{_ALLOWANCE})?"
    r"(?:\s+(?:do|have|can)\s+i(?:\s+(?:still\s+)?(?:have|got|make|generate|create|use|do))?)?"
    r"(?:\s+(?:left|remaining))?(?:\s+(?:today|this\s+month))?|"
    r"what(?:'s|\s+is|\s+are)\s+(?:my|the)\s+(?:usage|quota|credits?|balance|limits?)|"
    rf"(?:is\s+there|do\s+i\s+have)\s+a\s+limit){_END}",
    re.IGNORECASE,
)
_HISTORY = re.compile(
    rf"\s*(?:my\s+)?(?:history|verlauf|historial|historique|histórico|履歴|历史(?:记录)?){_END}",
    re.IGNORECASE,
)

# Thanks and praise, said to the bot or in its thread ("nice!", "thanks 🙏", ":+1:"): people
# talking, not an edit of the result. In seedbot's languages too.
_PRAISE = (
    r"(?:thanks?(?: you)?(?: (?:so|very) much)?|thx|ty|tysm|tyvm|cheers|nice(?: one)?|cool|great|"
    r"awesome|amazing|perfect|beautiful|gorgeous|(?:i )?love it|lol|lmao|(?:ha){2,}|wow|ok|okay|"
    r"good (?:job|bot)|well done|danke(?: schön| sehr)?|merci(?: beaucoup)?|gracias|obrigad[oa]|"
    r"ありがとう(?:ございます)?|谢谢|感谢|"
    # praise in seedbot's other languages
    r"super|toll|klasse|genial|perfekt|wunderschön|sehr schön|schön|parfait|génial|magnifique|trop bien|"
    r"bravo|perfecto|perfecta|precioso|preciosa|me encanta|perfeito|perfeita|lindo|linda|adorei|"
    r"すごい|すご|いいね|最高|完璧|素敵|きれい|綺麗|かわいい|太棒了|不错|完美|好看|真棒|好美|喜欢)"
)
_THANKS = re.compile(rf"{_PRAISE}(?:,?\s*seedbot)?", re.IGNORECASE)
# The reactions that go with them: as characters, as Slack and Discord write them (":+1:"),
# and as emoticons. A skin tone or a variation selector may follow an emoji.
_REACTION = re.compile(
    r"[👍👌🙏❤♥😍🥰👏😂🤣🎉💯🙌😊☺😄😁🤩💖💕✨]|[\U0001F3FB-\U0001F3FF\uFE0F\u200D]|"
    r":(?:\+1|thumbsup|ok_hand|pray|heart|heart_eyes|clap|joy|tada|100|raised_hands|sparkles|smile|"
    r"blush|star-struck|star_struck)(?:::skin-tone-\d)?:|:-?[)D]|<3|[!.?~,;！？。、，～]"
)

# "Is it done yet?": what people ask while they wait, and the status words of a bot's queue.
_STATUS = re.compile(
    r"\s*(?:(?:my\s+)?(?:status|queue|jobs|progress)|(?:is\s+it|are\s+they)\s+(?:done|ready|finished)"
    r"(?:\s+yet)?|done(?:\s+yet)?|still\s+(?:working|waiting)|any\s+progress|where(?:'s|\s+is|\s+are)\s+my\s+"
    r"(?:images?|pictures?|pics?)|where(?:'s|\s+is)\s+it|what(?:'s|\s+is)\s+taking\s+so\s+long|"
    r"why\s+is\s+it\s+(?:so\s+)?slow|is\s+it\s+stuck|how\s+long(?:\s+(?:will|does)\s+it\s+take)?|eta|"
    rf"did\s+it\s+work|warteschlange|statut|進捗|状況|进度|状态){_END}",
    re.IGNORECASE,
)

# The styles' list: "styles", "style list", "list styles", "what styles are there?".
_STYLES = re.compile(
    r"\s*(?:(?:my\s+|available\s+)?styles?(?:\s+list)?|(?:list|show)(?:\s+me)?\s+(?:the\s+)?(?:available\s+)?styles?|"
    r"(?:what|which)\s+styles?(?:\s+(?:are\s+there|do\s+you\s+have|can\s+i\s+use|are\s+(?:there|available)))?|"
    rf"presets?){_END}",
    re.IGNORECASE,
)

# "Download", "send me the original", "full size": how to keep an image, not an edit of it.
_SAVE = re.compile(
    r"\s*(?:(?:save|download|keep)(?:\s+(?:it|this|that|them|these|all|the\s+images?|the\s+pictures?))?|"
    r"(?:(?:send|give|show)\s+me\s+)?(?:the\s+)?(?:original(?:\s+(?:file|image|size))?|full[\s-]?size"
    r"(?:\s+(?:file|image|version))?|file|link)|(?:where(?:'s|\s+is)\s+the\s+)(?:link|file|original)|"
    rf"herunterladen|télécharger|descargar|baixar|保存|ダウンロード|下载){_END}",
    re.IGNORECASE,
)


# "No", "that's not what I asked", "👎": the result missed. Said alone it is no edit prompt (a
# drawing of "wrong", charged); it is told what would help.
_MISSED = re.compile(
    r"(?:no+|nope|nah|wrong|bad|ugly|terrible|awful|horrible|meh|ew+|wtf|huh|"
    r"(?:(?:that|this|it)(?:'s| is)\s+)?(?:wrong|not (?:it|right|good|what i (?:asked|wanted|meant)(?: for)?))|"
    r"(?:that|this|it)(?:'s| is) (?:bad|ugly|terrible|awful)|"
    r"nein|falsch|non|faux|pas ça|no es eso|mal|errado|não|nao|違う|ちがう|不对|不是这个)",
    re.IGNORECASE,
)
_DISLIKE = re.compile(
    r"[👎😕😞🙁😢😩😤🤔😬]|:(?:-1|thumbsdown|confused|disappointed|slightly_frowning_face):"
)


# "Animate it", "make a video of a cat": Seedream makes still images; a still (charged) is not what
# was asked. "a video game hero" and "a gif of a cat" as a style of picture stay prompts.
_VIDEO = re.compile(
    r"\s*(?:(?:please\s+)?(?:animate|make\s+(?:it|this|them)\s+(?:move|animated|a\s+(?:video|gif|clip|movie)))"
    r"(?:\s+(?:it|this|them))?(?:\s+please)?|(?:please\s+)?animate\s+(?:a|an|the|my|this|these)\s+\S.*|(?:please\s+)?(?:make|create|generate|render)\s+(?:me\s+)?an?\s+"
    r"(?:video|clip|movie|animation|animated\s+gif)\s+(?:of|about|where|with|showing)\b.*|(?:turn|convert)\s+"
    r"(?:it|this|them)\s+into\s+an?\s+(?:video|gif|clip|animation))[.!?]*\s*",
    re.IGNORECASE | re.DOTALL,
)


# "Describe this", "what's in this picture?": Midjourney's /describe, or a question about a photo.
# Seedream draws; an edit whose prompt is the question (charged) answers nothing.
_DESCRIBE = re.compile(
    r"\s*(?:[/!]?describe(?:\s+(?:it|this|that|them|the\s+(?:image|picture|photo)|this\s+(?:image|picture|photo)))?"
    r"|caption\s+(?:it|this)|what(?:'s|\s+is)\s+(?:in\s+)?(?:this|that|it)(?:\s+(?:image|picture|photo|pic))?"
    r"|what\s+(?:does|do)\s+(?:it|this|the\s+image)\s+(?:say|show)|(?:read|transcribe)\s+(?:it|this|the\s+text))"
    r"(?:\s+please)?[.!?]*\s*",
    re.IGNORECASE,
)


def asks_for_description(text: str) -> bool:
    return _DESCRIBE.fullmatch(text) is not None


def asks_for_video(text: str) -> bool:
    return _VIDEO.fullmatch(text) is not None


# "Make it blue", "turn this into a poster": words about an image that is there already, not a
# new picture's description.
_OF_AN_IMAGE = re.compile(
    r"\s*(?:please\s+)?(?:make|turn|change|convert|edit|fix|crop|recolou?r)\s+(?:it|this|that|them|the\s+(?:image|picture|photo))\b",
    re.IGNORECASE,
)


def speaks_of_an_image(text: str) -> bool:
    return _OF_AN_IMAGE.match(text) is not None


# "Make it transparent", "transparent background": Seedream paints every pixel, so said alone
# it is told what works instead (a plain background, cut out), not drawn as a checkerboard.
_TRANSPARENT = re.compile(
    # ("make it transparent" stays an edit: a glass, made see-through)
    r"\s*(?:(?:make|turn|change|set)\s+the\s+(?:background|bg)\s+(?:to\s+)?)?"
    r"(?:(?:with|on|in|as|give\s+it)\s+)?(?:an?\s+)?"
    r"(?:transparent(?:\s+(?:background|bg|png|image|version|one))?|(?:png\s+)?with\s+(?:a\s+)?transparen(?:cy|t\s+background)|"
    r"transparenter\s+hintergrund|hintergrund\s+transparent|fond\s+transparent|fondo\s+transparente|"
    rf"fundo\s+transparente|透明(?:背景|に(?:して)?)?|背景(?:を)?透明(?:に(?:して)?)?|透明背景)(?:,?\s+please)?{_END}",
    re.IGNORECASE,
)


def asks_for_transparency(text: str) -> bool:
    return _TRANSPARENT.fullmatch(text) is not None


def asks_how_to_save(text: str) -> bool:
    return _SAVE.fullmatch(text) is not None


def asks_for_styles(text: str) -> bool:
    return _STYLES.fullmatch(text) is not None


def asks_for_help(text: str) -> bool:
    return _HELP.fullmatch(text) is not None


def asks_for_status(text: str) -> bool:
    return _STATUS.fullmatch(text) is not None


def asks_for_usage(text: str) -> bool:
    return _USAGE.fullmatch(text) is not None


def asks_for_history(text: str) -> bool:
    return _HISTORY.fullmatch(text) is not None


def is_small_talk(text: str) -> bool:
    """Thanks, praise or a reaction as the whole message, with or without its emoji."""
    words = _REACTION.sub(" ", text).strip()
    if not words:
        return bool(text.strip())
    return _THANKS.fullmatch(" ".join(words.split())) is not None


# "Why is it blurry?", "what happened?": a question about what went wrong, replied to a result.
# Nothing can answer it; what would help is the same as for a miss ("why not add a hat" is words).
_WHY = re.compile(
    r"\s*(?:why(?:\s+(?:is|does|did|are|do|would|has|was|were|the|it|this|that|so)\b.*)?|what\s+happened|"
    r"what\s+went\s+wrong|lol\s+no|hm+|warum.*|pourquoi.*|por\s*qu[ée].*|なぜ.*|なんで.*|为什么.*)\s*[?？!！.。]*\s*",
    re.IGNORECASE | re.DOTALL,
)
# "Can I use this commercially?", "copyright?": who may use an image is not seedbot's to say.
_RIGHTS = re.compile(
    r"\s*(?:(?:can|may)\s+i\s+(?:use|sell|print|post|share)\s+(?:this|it|these|them|the\s+images?)"
    r"(?:\s+(?:commercially|for\s+(?:commercial\s+use|work|my\s+(?:business|company|book|shop|brand))))?|"
    r"(?:is\s+(?:it|this)\s+)?(?:free\s+to\s+use|royalty[\s-]free|copyright(?:ed)?|licen[cs]e[ds]?)|"
    r"commercial\s+(?:use|rights|license)|who\s+owns\s+(?:this|it|these|them|the\s+(?:images?|rights?))|"
    rf"what(?:'s|\s+is|\s+are)\s+the\s+(?:licen[cs]e|terms|usage\s+rights)){_END}",
    re.IGNORECASE,
)


# "Surprise me", "draw anything": a prompt that leaves the picture to seedbot (one of
# messages.SURPRISES). "A surprise party" and "draw anything you see" are prompts.
_SURPRISE = re.compile(
    r"\s*(?:(?:please\s+)?surprise\s+me|(?:draw|make|generate|create|show)\s+(?:me\s+)?(?:something|anything)"
    r"(?:\s+(?:random|cool|nice|fun|interesting|beautiful))?|(?:something|anything)\s+(?:random|cool)|"
    r"random(?:\s+(?:image|picture|prompt))?|you\s+(?:choose|decide|pick)|your\s+choice|dealer'?s\s+choice|"
    r"up\s+to\s+you|überrasch(?:e)?\s+mich|surprends-moi|sorpr[ée]ndeme|me\s+surpreenda|おまかせ|随便画|随机)"
    r"(?:,?\s+please)?\s*[.!?！？。]*\s*",
    re.IGNORECASE,
)


def asks_for_a_surprise(prompt: str) -> bool:
    return _SURPRISE.fullmatch(prompt) is not None


# "ok but darker", "nice, now add a hat": a reply that starts by talking, then says the change.
# The talk (praise, as small talk reads it, or "yes", "same") is not for the model ("cool cat in
# sunglasses" has no "but" or "now": it stays). Only at the start, each word whole ("ty" is not
# praise inside "city"), and possessive, so a long run of spaces is read once (it took seconds).
_CHATTER = re.compile(
    rf"\s*+(?:{_PRAISE}|yes|yeah|yep|good|hmm+|(?:the\s+)?same(?:\s+(?:thing|one|image|picture))?)(?!\w)"
    r"[\s,.!]*+(?<=[\s,.!])(?:but|now|and\s+now|then|so)(?!\w)[\s,]*+(?=\S)",
    re.IGNORECASE,
)


def without_chatter(text: str) -> str:
    """A reply without the talk before its change ("ok but darker": "darker"); talk is only at
    the start ("keep the face the same but change the hair" is all change)."""
    talk = _CHATTER.match(text)
    return text[talk.end() :] if talk else text


def asks_why(text: str) -> bool:
    return _WHY.fullmatch(text) is not None


def asks_about_rights(text: str) -> bool:
    return _RIGHTS.fullmatch(text) is not None


def is_a_miss(text: str) -> bool:
    """ "No", "wrong", "that's not what I asked" or 👎 as the whole message."""
    disliked = _DISLIKE.search(text) is not None
    words = _REACTION.sub(" ", _DISLIKE.sub(" ", text)).strip()
    if not words:
        return disliked
    return _MISSED.fullmatch(" ".join(words.split())) is not None

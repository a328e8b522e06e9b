"""Text for the secrecy rules: normalisation, the stamp matcher, the folding of declared values.

Pure functions over strings; the rules themselves are data in `secrecy_rules.py`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Final

from .secrecy_rules import (
    COMPOUND_AFTER,
    COMPOUND_AFTER_EXCEPTIONS,
    RANK,
    STAMP_RULES,
    Level,
    StampRule,
)

# Characters that show nothing and can split a word: soft hyphen, combining grapheme joiner,
# Mongolian vowel separator, zero-width space / (non-)joiner, LRM/RLM, bidi embeddings and
# isolates, word joiner and invisible operators, BOM (zero-width no-break space). Removed.
_INVISIBLE_CHARS: Final = (
    "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_INVISIBLE: Final = re.compile(f"[{_INVISIBLE_CHARS}]")
_BEFORE_VOWEL: Final = "mM" + _INVISIBLE_CHARS  # what may stand before the "ậ" of a "mật"
# "ậ" precomposed, and the combining marks without which it cannot be written decomposed
_MARKERS: Final = "\u1ead\u1eac\u0302\u0323"

_LETTERS: Final = r"[^\W\d_]+"
_WORDS_AFTER: Final = re.compile(rf"[ \n_-]({_LETTERS})(?:[ \n_-]({_LETTERS}))?")
_BEFORE_WINDOW: Final = 24  # longer than any compound partner and its separator
# Non-space characters taken on each side of a "mật": more than any rule spans around it
# ("độ mật: tuyệt mật" and a compound partner) plus the character that bounds it.
_CONTEXT: Final = 32
_SEPARATORS: Final = re.compile("[ \n_/.-]")
_JOINERS: Final = " \n_-"  # what joins the words of a stamp or of a compound
_LEVEL_BY_NAME: Final[dict[str, Level]] = {
    "mật": "mat",
    "tối mật": "toi-mat",
    "tuyệt mật": "tuyet-mat",
}
_COMPILED: Final = tuple(
    (rule, re.compile(rule.pattern, re.IGNORECASE if rule.ignore_case else 0))
    for rule in STAMP_RULES
)


# --- what a reader sees ----------------------------------------------------------------------
# Letters spelled out one by one: "M Ậ T", "M.Ậ.T", "T Ố I  M Ậ T". Three single letters or more,
# with one separator (one or two characters) between them; gated by a spaced "ậ", rare in
# ordinary text.
_SPACING: Final = " .·•*_/-"
_SPACED_VOWEL: Final = re.compile(f"[{re.escape(_SPACING)}][ậẬ][{re.escape(_SPACING)}]")
_SEP: Final = f"[{re.escape(_SPACING)}]"
_SINGLE: Final = r"[^\W\d_](?![^\W\d_])"
# the same separator between every two letters: "M Ậ T - V/v" joins "MẬT", not "MẬTV"
_SPACED_LETTERS: Final = re.compile(
    rf"(?<![^\W\d_]){_SINGLE}(?P<sep>{_SEP}{{1,2}}){_SINGLE}(?:(?P=sep){_SINGLE})+"
)
_SPACED_PREFIXES: Final = ("tuyệt", "tối", "độ")  # joined back with a space before "mật"
_STRAY_MARKS: Final = re.compile("[\u0300-\u036f]")  # combining marks NFC could not compose


@functools.cache
def _confusables() -> dict[int, str]:
    """Letters of other scripts that look like a Latin letter, folded to it: a skeleton in the
    sense of Unicode TR39, from the confusables table that confusable-homoglyphs ships (Unicode's
    confusables.txt). Only letters (no digits or symbols) and only to an ASCII letter; an upper
    case letter keeps upper case (TR39 folds I to l)."""
    data = json.loads(
        (resources.files("confusable_homoglyphs") / "confusables.json").read_text("utf-8")
    )
    table: dict[int, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or not unicodedata.category(char).startswith("L"):
            continue
        if unicodedata.name(char, "LATIN").startswith("LATIN"):
            continue
        latin = next((e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii()), None)
        if latin is not None and latin.isalpha():
            table[ord(char)] = "I" if latin == "l" and char.isupper() else latin
    return table


def fold_for_reading(text: str) -> str:
    """`text` as a reader sees it: invisible characters removed, compatibility forms folded
    (NFKC: fullwidth ＭẬＴ), look-alike letters of other scripts folded to Latin (Cyrillic МẬТ),
    composed (NFC), combining marks left over removed (an extra accent), letters spelled out
    one by one joined (M Ậ T). White space is left to `normalise`."""
    if _UNUSUAL.search(text):  # beyond Latin, Vietnamese and punctuation
        text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
        if _UNUSUAL.search(text):  # still, once composed (NFD Vietnamese is not, after NFC)
            text = unicodedata.normalize("NFKC", text).translate(_confusables())
            text = _STRAY_MARKS.sub("", unicodedata.normalize("NFC", text))
    if _SPACED_VOWEL.search(text):
        text = _SPACED_LETTERS.sub(_join_spaced, text)
    return text


# Characters beyond Latin (to Latin Extended-B), Vietnamese (Latin Extended Additional) and
# general punctuation: where compatibility forms, look-alikes and stray marks are found.
_UNUSUAL: Final = re.compile("[^\x00-\u024f\u1e00-\u1eff\u2000-\u206f]")


def _unusual(ch: str) -> bool:
    return ch > "\u024f" and not "\u1e00" <= ch <= "\u1eff"


def _may_be_m(ch: str) -> bool:
    """What may stand before the "ậ" of a "mật" as a reader sees it: m, M, an invisible
    character, a separator of spaced letters (M Ậ T), a look-alike (Cyrillic М, fullwidth Ｍ)."""
    return ch != "" and (ch in _BEFORE_VOWEL or ch in _SPACING or _unusual(ch))


def _may_be_t(ch: str) -> bool:
    return ch != "" and (ch in "tT" or ch in _SPACING or _unusual(ch))


def _join_spaced(match: re.Match[str]) -> str:
    word = "".join(ch for ch in match.group() if ch not in _SPACING)
    lowered = word.lower()
    for prefix in _SPACED_PREFIXES:
        if lowered.startswith(prefix) and lowered[len(prefix) :] == "mật":
            return word[: len(prefix)] + " " + word[len(prefix) :]
    return word


def may_hold_stamp(text: str) -> bool:
    """False when `text` cannot hold a stamp: four single-character searches.

    Every stamp contains "mật", so "ậ" in some Unicode form: precomposed (U+1EAD, U+1EAC) or
    decomposed, which always involves a combining circumflex (U+0302) or dot below (U+0323).
    """
    return any(ch in text for ch in _MARKERS)


def normalise(text: str) -> str:
    """Invisible characters removed, NFC, every run of white space folded to one space (one
    line break when the run holds one: a stamp on a line of its own stands alone), none at
    either end. White space is what str.split() splits on (str.isspace): space, tab, CR, LF,
    VT, FF, U+001C-U+001F, NEL, NBSP, U+1680, U+2000-U+200A, the line and paragraph
    separators, narrow NBSP, U+205F and the ideographic space."""
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text)).strip()
    return _WHITE_RUN.sub(_one_space, text)


_WHITE_RUN: Final = re.compile(r"\s+")
_LINE_BREAKS: Final = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _one_space(match: re.Match[str]) -> str:
    run = match.group()
    if run == " ":
        return run
    return "\n" if any(ch in _LINE_BREAKS for ch in run) else " "


@dataclass(frozen=True, slots=True)
class StampMatch:
    rule: StampRule
    level: Level
    marking: str  # the matched marking, normalised: never more of the text than that


def find_stamp(text: str) -> StampMatch | None:
    """The highest-level stamp in `text` (raw: it is normalised here), or None.

    Between stamps of one level, the first rule of STAMP_RULES wins. The cost: the pre-filter;
    then `fold_for_reading` (quick checks, and work only for text that needs it); then a look
    at each "ậ" and, around
    each "mật", a window of text that is normalised and matched against the rules.
    """
    if not may_hold_stamp(text):
        return None
    if "\u0302" in text or "\u0323" in text:  # decomposed: fold (and compose) it all first
        text = fold_for_reading(text)
    best: StampMatch | None = None
    for start, end in _windows(text, _candidates(text)):
        found = _match_rules(normalise(fold_for_reading(text[start:end])))
        if found is not None and (best is None or RANK[found.level] > RANK[best.level]):
            best = found
    return best


def _match_rules(text: str) -> StampMatch | None:
    best: StampMatch | None = None
    for rule, regex in _COMPILED:
        if best is not None and rule.level is not None and RANK[rule.level] <= RANK[best.level]:
            continue  # cannot beat what was found
        for match in regex.finditer(text):
            if not _is_stamp(text, match.start(), match.end(), rule):
                continue
            level = rule.level or _LEVEL_BY_NAME[_SEPARATORS.sub(" ", match["level"].lower())]
            if best is None or RANK[level] > RANK[best.level]:
                best = StampMatch(rule, level, " ".join(match.group().split()))
            if rule.level is not None:
                break  # one match is enough for a rule of a fixed level
    return best


def _candidates(text: str) -> list[int]:
    """Where a "mật" may start, in any case, in text whose "ậ" are precomposed: an "ậ" between
    m and t (invisible characters between them are skipped).

    "ậ" is common (nhận, luật, cập nhật, thành lập...), so the text is split on it in C and
    only the pieces that end in m (or in an invisible character) are looked at closely.
    """
    found = []
    for vowel in "ậẬ":
        if vowel not in text:
            continue
        pieces = text.split(vowel)
        close = [k for k, piece in enumerate(pieces[:-1]) if _may_be_m(piece[-1:])]
        if not close:
            continue
        ends = list(itertools.accumulate(len(piece) + 1 for piece in pieces))
        for k in close:
            at = ends[k] - 1  # where the k-th vowel stands
            before = _skip_invisible(text, at - 1, -1)
            after = _skip_invisible(text, at + 1, +1)
            if before >= 0 and _may_be_m(text[before]) and _may_be_t(text[after : after + 1]):
                found.append(before)
    found.sort()
    return found


def _skip_invisible(text: str, i: int, step: int) -> int:
    while 0 <= i < len(text) and text[i] in _INVISIBLE_CHARS:
        i += step
    return i


def _windows(text: str, candidates: list[int]) -> list[tuple[int, int]]:
    """Spans around the candidates, each with at least _CONTEXT characters other than white
    space on either side (or the end of the text), overlapping ones merged: every match of a
    rule contains a candidate, so no match can reach the edge of its window."""
    spans: list[tuple[int, int]] = []
    for at in candidates:
        start, end = _span(text, at)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def _span(text: str, at: int) -> tuple[int, int]:
    margin = 2 * _CONTEXT
    while True:
        start = max(0, at - margin)
        end = min(len(text), at + len("mật") + margin)
        if (start == 0 or _solid(text[start:at]) >= _CONTEXT) and (
            end == len(text) or _solid(text[at + len("mật") : end]) >= _CONTEXT
        ):
            return start, end
        margin *= 2  # much white space: widen


def _solid(text: str) -> int:
    """The number of characters of `text` that are not white space."""
    return len("".join(text.split()))


def _is_word_char(ch: str) -> bool:
    return ch.isalpha() or unicodedata.category(ch).startswith("M")


def _is_stamp(text: str, start: int, end: int, rule: StampRule) -> bool:
    # a whole word: nothing glued to it
    if start > 0 and _is_word_char(text[start - 1]):
        return False
    if end < len(text) and _is_word_char(text[end]):
        return False
    # not a syllable of a compound word (unless what follows is a word of its own)
    after = _WORDS_AFTER.match(text, end)
    if after is not None and after[1].lower() in COMPOUND_AFTER:
        phrase = f"{after[1]} {after[2]}".lower() if after[2] else ""
        if phrase not in COMPOUND_AFTER_EXCEPTIONS:
            return False
    if rule.not_after and _word_before(text, start).lower() in rule.not_after:
        return False
    left, right = text[:start].rstrip(" "), text[end:].lstrip(" ")  # a line break stays
    if _LIST_BEFORE.search(left) or _LIST_AFTER.match(right):
        return False  # "độ mật: tối mật, tuyệt mật" names the levels: it marks nothing
    if not rule.positional:
        return True
    if rule.level is not None and _LABEL_BEFORE.search(left):
        return False  # after a label "độ mật:" that the do-mat-label rule did not take
    capitals = rule.level is not None and text[start:end].isupper()
    return capitals or _stands_as_stamp(left, right)


# a level named next to another, in a list: "tối mật, tuyệt mật", "MẬT và TỐI MẬT"
_LEVEL_WORDS: Final = r"(?:tuyệt[ _/.-]mật|tối[ _/.-]mật|mật)"
_LIST_BEFORE: Final = re.compile(rf"{_LEVEL_WORDS}\s?(?:,|;|và|hoặc)$", re.IGNORECASE)
_LIST_AFTER: Final = re.compile(
    rf"(?:,|;|và|hoặc)\s?(?:độ )?{_LEVEL_WORDS}(?![^\W\d_])", re.IGNORECASE
)
_LABEL_BEFORE: Final = re.compile(r"độ[\s_/.-]mật\s?[:：\-–—]?$", re.IGNORECASE)
# what sets a stamp off: a line break, a bracket, a dash, a bar, quotes; "_" in file names
# (CV_Tối_mật_125.docx); a full stop before it (it starts a sentence) or after it
_OPENERS: Final = "\n([{<-–—|*\"“'«_."
_CLOSERS: Final = "\n)]}>-–—|*\"”'»._"


def _stands_as_stamp(before: str, after: str) -> bool:
    """Where a stamp stands: alone; at the start of the text or of a line, or set off by a
    bracket, dash or bar before it; or at the end of the text or of a line (or set off after
    it), unless a comma or colon ties it to the words before."""
    if not before or before[-1] in _OPENERS:
        return True
    return (not after or after[0] in _CLOSERS) and before[-1] not in ",;:"


def _word_before(text: str, start: int) -> str:
    """The word joined to text[start:] by one space, `_` or `-`; "" if there is none."""
    if start < 2 or text[start - 1] not in _JOINERS:
        return ""
    i = start - 1
    while i > 0 and start - i <= _BEFORE_WINDOW and text[i - 1].isalpha():
        i -= 1
    return text[i : start - 1]


_NOT_ALNUM: Final = re.compile(r"[\W_]+")
_LABEL: Final = "domat"  # "Độ mật", folded


def fold_declared(value: str) -> str:
    """The key of a declared SecrecyLevel value: NFC, case folded, diacritics removed (đ → d),
    everything but letters and digits removed, a leading "Độ mật" label dropped.

    "Tối mật", "TỐI MẬT", "toi-mat", "Toi_Mat", "Độ mật: Tối mật" all give "toimat".
    """
    text = unicodedata.normalize("NFD", normalise(value).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("đ", "d")
    key = _NOT_ALNUM.sub("", text)
    if key.startswith(_LABEL) and key != _LABEL:
        key = key[len(_LABEL) :]
    return key

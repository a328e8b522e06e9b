"""The secrecy rules as data: levels, declared values, stamp rules and their examples.

Secret documents (độ mật: Mật, Tối mật, Tuyệt mật; Law 29/2018, Decree 30/2020) never travel
over the network. A sender declares secrecy in the `Edoc-Secrecy` header or an
`OtherInfo/SecrecyLevel` (legacy: `Secret`) element; the gateway also recognises a secrecy
*stamp* in the text: the marking, not the word (docs/secrecy.md). `secrecy_text.py` applies
STAMP_RULES to text folded as a reader sees it (NFKC, TR39 look-alikes folded to Latin, NFC,
stray marks and zero-width characters removed, letters spelled out one by one joined) and
normalised (every run of white space folded to one space, or to one line break when it holds
one); `secrecy.py` applies the declared values and walks the document's fields.

A stamp rule matches when, in the normalised text:
1. its pattern matches (a literal, compared case-sensitively or not as the rule says);
2. the match is a whole word: no letter (or combining mark) glued before or after it;
3. the match is not part of a longer word or phrase: the word joined to it by one space, `_`
   or `-` after it is not in COMPOUND_AFTER (every match ends in "mật": MẬT KHẨU, mật độ...),
   and the word before it is not in the rule's `not_after` (COMPOUND_BEFORE for a capital
   MẬT: BẢO MẬT, BÍ MẬT...; DEGREE_WORDS for Tối mật / Tuyệt mật: "độ Tối mật");
4. the match is not in a list of levels ("tối mật, tuyệt mật");
5. a `positional` rule's match not in capitals stands where a stamp stands: alone, at the start
   or end of the text or of a line, or set off by a bracket, dash, bar, quote or `_`.
When several rules match, the highest level wins; between equal levels, the first rule here.

EXAMPLES is the table of phrasings that the tests check against these rules, one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Level = Literal["mat", "toi-mat", "tuyet-mat"]

# lowest to highest: the highest level found in a document wins
LEVELS: Final[tuple[Level, ...]] = ("mat", "toi-mat", "tuyet-mat")
RANK: Final[dict[Level, int]] = {level: i for i, level in enumerate(LEVELS, start=1)}
LEVEL_NAMES: Final[dict[Level, str]] = {
    "mat": "Mật",
    "toi-mat": "Tối mật",
    "tuyet-mat": "Tuyệt mật",
}

# --- declarations -----------------------------------------------------------------------------
HEADER_NAME: Final = "Edoc-Secrecy"
# the header is strict: exactly these codes, in any case (anything else is a 400)
HEADER_VALUES: Final[dict[str, Level | None]] = {
    "none": None,
    "mat": "mat",
    "toi-mat": "toi-mat",
    "tuyet-mat": "tuyet-mat",
}

# OtherInfo/SecrecyLevel is lenient: its only purpose is to declare a level, so any spelling of a
# level is heard. The value is folded first (secrecy_text.fold_declared): NFC, case folded,
# diacritics removed (đ → d), everything but letters and digits removed, a leading "Độ mật"
# label dropped. So "Tối mật", "TỐI MẬT", "toi-mat", "Toi_Mat", "tối  mật", "Độ mật: Tối mật" all
# read as toi-mat. A value that folds to none of these keys is refused as bad input (never
# guessed): guessing "not secret" could let a secret through; guessing "secret" would count an
# ordinary document as secret in the statistics.
SECRECY_LEVEL_VALUES: Final[dict[str, Level | None]] = {
    # the codes and the Vietnamese names, with or without diacritics
    "mat": "mat",
    "toimat": "toi-mat",
    "tuyetmat": "tuyet-mat",
    # the usual English renderings (Law 29/2018 in translation)
    "confidential": "mat",
    "secret": "toi-mat",
    "topsecret": "tuyet-mat",
    # not secret
    "none": None,
    "0": None,
    "khong": None,  # không
    "khongmat": None,  # không mật
    "thuong": None,  # thường
    "binhthuong": None,  # bình thường
    "normal": None,
    "unclassified": None,
}
SECRECY_LEVEL_HINT: Final = (
    "none, mat, toi-mat or tuyet-mat (or the names Mật, Tối mật, Tuyệt mật; "
    "any case, with or without diacritics)"
)

# --- stamps -----------------------------------------------------------------------------------
# Words that make one word with a following "mật" (X mật): BẢO MẬT, BÍ MẬT... A stand-alone
# capital MẬT right after one of them (joined by a space, `_` or `-`) is a syllable of that word.
COMPOUND_BEFORE: Final = frozenset(
    {
        "bảo",  # bảo mật: security, confidentiality
        "bí",  # bí mật: a secret (bí mật nhà nước: state secret)
        "cơ",  # cơ mật: confidential (old), Cơ mật viện
        "thân",  # thân mật: intimate, friendly
        "nghiêm",  # nghiêm mật: tight, strict
        "chu",  # chu mật: thorough
        "tinh",  # tinh mật: meticulous
        "giải",  # giải mật: to declassify
        "độ",  # độ mật: the label (a level after it is the do-mat-label rule)
        "tối",  # tối mật / tuyệt mật: the higher levels' own rules
        "tuyệt",
        "ong",  # ong mật: honeybee
        "túi",  # túi mật: gallbladder
        "sỏi",  # sỏi mật: gallstone
        "ống",  # ống mật: bile duct
        "dịch",  # dịch mật: bile
        "đường",  # đường mật: honeyed
    }
)
# Words that make one word with a preceding "mật" (mật X): MẬT KHẨU, MẬT MÃ... Any match that
# ends in "mật" and is followed by one of them (joined by a space, `_` or `-`) is not a stamp.
COMPOUND_AFTER: Final = frozenset(
    {
        "khẩu",  # mật khẩu: password
        "mã",  # mật mã: cipher
        "thiết",  # mật thiết: close, intimate
        "ong",  # mật ong: honey
        "độ",  # mật độ: density
        "thư",  # mật thư: secret letter (a word, not a marking)
        "vụ",  # mật vụ: secret agent
        "danh",  # mật danh: code name
        "báo",  # mật báo: secret report (verb)
        "lệnh",  # mật lệnh: secret order
        "ước",  # mật ước: secret treaty
        "thám",  # mật thám: spy
        "đàm",  # mật đàm: secret talks
        "ngữ",  # mật ngữ: code word
        "hiệu",  # mật hiệu: secret signal
        "kế",  # mật kế: secret plan
        "thất",  # mật thất: secret room
        "gấu",  # mật gấu: bear bile
        "mía",  # mật mía: molasses
        "rỉ",  # mật rỉ: molasses
        "hoa",  # mật hoa: nectar
        "ngọt",  # mật ngọt: sweet words
        "sơn",  # Mật Sơn: a place name (XÃ MẬT SƠN)
    }
)
# Words before a capital MẬT that make it part of a place's name: XÃ MẬT SƠN, THÔN MẬT...
PLACE_WORDS: Final = frozenset(
    {"xã", "thôn", "xóm", "bản", "làng", "ấp", "phường", "huyện", "tỉnh", "núi", "sông", "suối"}
)


# Two-word phrases that begin with a COMPOUND_AFTER partner but are words of their own: a stamp
# stands above or before a document's title, and titles begin with them ("TUYỆT MẬT / KẾ HOẠCH
# ...", "MẬT - Báo cáo ..."). After a match, such a phrase does not make it a compound.
COMPOUND_AFTER_EXCEPTIONS: Final = frozenset(
    {
        "kế hoạch",  # plan
        "kế toán",  # accounting
        "báo cáo",  # report
        "báo chí",  # the press
        "danh sách",  # list
        "danh mục",  # catalogue
        "thư mời",  # invitation
        "thư ký",  # secretary
        "thư viện",  # library
        "hiệu lực",  # effect (in force)
        "hiệu quả",  # efficiency
        "hiệu trưởng",  # head teacher
        "vụ việc",  # case
        "ước tính",  # estimate
        "đàm phán",  # negotiation
    }
)


# Words after which "Tối mật" / "Tuyệt mật" name a degree, not a marking: "Danh mục bí mật nhà
# nước độ Tối mật" is the public title of a list of state secrets; the marking with its label
# is "Độ mật: Tối mật" (the do-mat-label rule).
DEGREE_WORDS: Final = frozenset({"độ"})


@dataclass(frozen=True, slots=True)
class StampRule:
    id: str
    level: Level | None  # None: the level is read from the match's `level` group
    pattern: str  # applied to normalised text; compiled once by secrecy_text
    ignore_case: bool
    # a word right before the match (joined by a space, `_` or `-`) that makes it no stamp
    not_after: frozenset[str]
    explanation: str
    # Not in capitals, the match is a stamp only where a stamp stands (secrecy_text.positional):
    # alone, at the start or end of the text, or set off by a bracket, dash or bar. In
    # "phân loại tài liệu tối mật theo Luật 29/2018" it is a word of a sentence.
    positional: bool = False


# The order is the tie-break between rules of one level in one field.
STAMP_RULES: Final[tuple[StampRule, ...]] = (
    StampRule(
        id="do-mat-label",
        level=None,
        pattern=(
            r"độ[\s_/.-]mật\s?[:：\-–—]?\s?"
            r"(?P<level>tuyệt[\s_/.-]mật|tối[\s_/.-]mật|mật)"
        ),
        ignore_case=True,
        not_after=frozenset(),
        positional=True,
        explanation="the label “Độ mật” followed by a level (Mật, Tối mật, Tuyệt mật), any case",
    ),
    StampRule(
        id="tuyet-mat",
        level="tuyet-mat",
        pattern=r"tuyệt[\s_/.-]mật",
        ignore_case=True,
        not_after=DEGREE_WORDS,
        positional=True,
        explanation=(
            "“TUYỆT MẬT” in capitals, or in any case where a stamp stands; not after “độ” "
            "(a degree), not in a list of levels"
        ),
    ),
    StampRule(
        id="toi-mat",
        level="toi-mat",
        pattern=r"tối[\s_/.-]mật",
        ignore_case=True,
        not_after=DEGREE_WORDS,
        positional=True,
        explanation=(
            "“TỐI MẬT” in capitals, or in any case where a stamp stands; not after “độ” "
            "(a degree), not in a list of levels"
        ),
    ),
    StampRule(
        id="mat-capitals",
        level="mat",
        pattern=r"MẬT",
        ignore_case=False,
        not_after=COMPOUND_BEFORE | PLACE_WORDS,
        explanation=(
            "“MẬT” in capitals as a word of its own, not a syllable of a word such as "
            "BẢO MẬT, BÍ MẬT, MẬT KHẨU, MẬT MÃ"
        ),
    ),
)
RULES_BY_ID: Final[dict[str, StampRule]] = {rule.id: rule for rule in STAMP_RULES}

# Rules of the declarations, for SecrecyFinding.rule.
HEADER_RULE: Final = "header-code"
SECRECY_LEVEL_RULE: Final = "secrecy-level-element"
DECLARATION_EXPLANATIONS: Final[dict[str, str]] = {
    HEADER_RULE: f"the request header {HEADER_NAME} declares a level",
    SECRECY_LEVEL_RULE: "the OtherInfo/SecrecyLevel element declares a level",
}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    level: Level | None  # None: not a stamp
    rule: str | None
    why: str


EXAMPLES: Final[tuple[Example, ...]] = (
    # stamps
    Example("MẬT", "mat", "mat-capitals", "the stamp alone"),
    Example("MẬT - V/v kiểm tra công tác năm 2025", "mat", "mat-capitals", "stamp before"),
    Example("[MẬT] Báo cáo tình hình", "mat", "mat-capitals", "in brackets"),
    Example("Báo cáo số 12 (MẬT)", "mat", "mat-capitals", "in parentheses"),
    Example("MẬT, KHẨN", "mat", "mat-capitals", "next to the urgency stamp"),
    Example("MẬT KHẨN", "mat", "mat-capitals", "KHẨN is no compound partner"),
    Example("CÔNG VĂN MẬT", "mat", "mat-capitals", "a capital MẬT after a noun is a marking"),
    Example("TỐI MẬT", "toi-mat", "toi-mat", "the stamp"),
    Example("Tối mật", "toi-mat", "toi-mat", "any case"),
    Example("tối mật", "toi-mat", "toi-mat", "lower case"),
    Example("Tài liệu tối mật, không phổ biến", None, None, "a word of a sentence (issue 12)"),
    Example("(tối mật) Kế hoạch", "toi-mat", "toi-mat", "in brackets"),
    Example("Kế hoạch phòng chống - Tối mật", "toi-mat", "toi-mat", "set off at the end"),
    Example("M Ậ T", "mat", "mat-capitals", "letters spaced out"),
    Example("M.Ậ.T - Báo cáo", "mat", "mat-capitals", "letters separated by dots"),
    Example("T Ố I  M Ậ T", "toi-mat", "toi-mat", "two words spaced out"),
    Example("Tối/mật", "toi-mat", "toi-mat", "a slash between the words"),
    Example("\uff2d\u1eac\uff34", "mat", "mat-capitals", "fullwidth letters (NFKC)"),
    Example("\u041c\u1eac\u0422", "mat", "mat-capitals", "Cyrillic М and Т"),
    Example("TỐ\u0399 \u039c\u1eac\u03a4", "toi-mat", "toi-mat", "Greek Ι, Μ, Τ"),
    Example("M\u1eac\u0301T", "mat", "mat-capitals", "an extra combining accent"),
    Example("M\u0410\u0323\u0302T", "mat", "mat-capitals", "Cyrillic А with the marks"),
    Example("TUYỆT MẬT", "tuyet-mat", "tuyet-mat", "the stamp"),
    Example("Tuyệt Mật", "tuyet-mat", "tuyet-mat", "title case"),
    Example("tuyệt mật", "tuyet-mat", "tuyet-mat", "lower case"),
    Example("Độ mật: Mật", "mat", "do-mat-label", "the label and a level"),
    Example("ĐỘ MẬT: TỐI MẬT", "toi-mat", "do-mat-label", "the label in capitals"),
    Example("Độ mật - tuyệt mật", "tuyet-mat", "do-mat-label", "label with a dash"),
    Example("độ mật mật", "mat", "do-mat-label", "label without separator"),
    Example("TỐI  MẬT", "toi-mat", "toi-mat", "two spaces"),
    Example("TỐI\u00a0MẬT", "toi-mat", "toi-mat", "no-break space"),
    Example("TUYỆT\u202fMẬT", "tuyet-mat", "tuyet-mat", "narrow no-break space"),
    Example("TỐI\u3000MẬT", "toi-mat", "toi-mat", "ideographic space"),
    Example("TỐI\t\r\nMẬT", "toi-mat", "toi-mat", "tab and line break"),
    Example("M\u200bẬT", "mat", "mat-capitals", "zero-width space inside the word"),
    Example("\ufeffMẬT\u2060", "mat", "mat-capitals", "BOM and word joiner around it"),
    Example("MA\u0323\u0302T", "mat", "mat-capitals", "decomposed (NFD)"),
    Example("MA\u0302\u0323T", "mat", "mat-capitals", "decomposed, marks out of order"),
    Example("To\u0302\u0301i ma\u0323\u0302t", "toi-mat", "toi-mat", "decomposed (NFD)"),
    Example("Tối_mật", "toi-mat", "toi-mat", "underscore, as in file names"),
    Example("TUYỆT-MẬT", "tuyet-mat", "tuyet-mat", "hyphen"),
    Example("MẬT.", "mat", "mat-capitals", "followed by punctuation"),
    Example("12/MẬT", "mat", "mat-capitals", "after a slash"),
    Example("TUYỆT MẬT\nKẾ HOẠCH phòng chống", "tuyet-mat", "tuyet-mat", "above a plan's title"),
    Example("Tối mật\nKế hoạch năm 2026", "toi-mat", "toi-mat", "title starts with kế hoạch"),
    Example("MẬT Báo cáo tình hình", "mat", "mat-capitals", "báo cáo is not mật báo"),
    Example("TỐI MẬT - DANH SÁCH cán bộ", "toi-mat", "toi-mat", "danh sách is not mật danh"),
    Example("Độ mật: Mật\nThư mời họp", "mat", "do-mat-label", "thư mời is not mật thư"),
    # not stamps
    Example("BẢO MẬT", None, None, "bảo mật: security"),
    Example("Bảo mật thông tin", None, None, "bảo mật in any case"),
    Example("BÍ MẬT NHÀ NƯỚC", None, None, "bí mật: a secret"),
    Example("QUY CHẾ BẢO VỆ BÍ\nMẬT NHÀ NƯỚC", None, None, "compound across a line break"),
    Example("MẬT KHẨU", None, None, "mật khẩu: password"),
    Example("Đổi mật khẩu", None, None, "lower case"),
    Example("MẬT MÃ", None, None, "mật mã: cipher"),
    Example("Ban Cơ yếu: MẬT MÃ dân sự", None, None, "after a colon"),
    Example("MẬT THIẾT", None, None, "mật thiết: close"),
    Example("MẬT ONG", None, None, "mật ong: honey"),
    Example("MẬT ĐỘ DÂN SỐ", None, None, "mật độ: density"),
    Example("XÁC ĐỊNH ĐỘ MẬT", None, None, "the label without a level"),
    Example("Độ mật: Thường", None, None, "the label with no secret level"),
    Example("THÂN MẬT", None, None, "thân mật: friendly"),
    Example("GIẢI MẬT TÀI LIỆU", None, None, "giải mật: declassify"),
    Example("Mật ong rừng", None, None, "title case mật is a word"),
    Example("mật", None, None, "lower case mật alone is a word"),
    Example("Mật", None, None, "title case mật alone is a word"),
    Example("MẬTKHẨU", None, None, "glued to letters"),
    Example("BÍMẬT", None, None, "glued to letters"),
    Example("MAT", None, None, "no diacritics: could be mất, mắt, mát"),
    Example("TOI MAT", None, None, "no diacritics: could be TÔI MẤT (I lost)"),
    Example("MẤT", None, None, "mất (lose), another word"),
    Example("MẮT", None, None, "mắt (eye), another word"),
    Example("Độ mật: mật khẩu", None, None, "the value is a compound word"),
    Example(
        "Danh mục bí mật nhà nước độ Tối mật",
        None,
        None,
        "a degree named in a title, not a marking",
    ),
    Example("mức độ TUYỆT MẬT", None, None, "a degree"),
    Example("buổi tối mật ong", None, None, "tối + mật ong"),
    Example("MẬT KẾ của địch", None, None, "mật kế: a secret plan, one word"),
    Example("MẬT THƯ gửi", None, None, "mật thư: a secret letter, one word"),
    Example("Hướng dẫn phân loại tài liệu tối mật theo Luật 29/2018", None, None, "a sentence"),
    Example("Hướng dẫn xác định độ mật: tối mật, tuyệt mật", None, None, "levels listed"),
    Example("HƯỚNG DẪN XÁC ĐỊNH ĐỘ MẬT: TỐI MẬT, TUYỆT MẬT", None, None, "listed, capitals"),
    Example("UBND XÃ MẬT SƠN", None, None, "a place name"),
    Example("Mật Sơn", None, None, "a place name, title case"),
    Example("V/v mua sắm trang thiết bị", None, None, "single letters: not a spaced stamp"),
)

"""The words a personal name is judged by, and a batch's characters decoded once to judge it on.

Word lists (surnames, titles, relations, function characters, the halves of Tibetan and Mongolian names)
and jieba's dictionary (MIT, read from the installed package) become sorted integer keys (`key`: up to
three characters, 21 bits each), so that whether a candidate or its neighbours make a word is a binary
search for a whole batch at once (`member`). `Characters` holds the code points of a batch with their
byte offsets, so the candidates of every value are looked at as rows of a matrix (`window`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from recognizers.address import DIVISION_SUFFIXES
from recognizers.arrays import code_points, in_sorted, utf8_buffer
from recognizers.building import built_once
from recognizers.divisions import division_names
from recognizers.name_odds import GIVEN, code_points_of, dictionary, odds
from recognizers.patterns import overlapping

COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "夏侯", "尉迟", "公孙", "长孙", "宇文",
    "司徒", "端木", "独孤", "南宫", "西门", "万俟", "闻人", "轩辕", "呼延", "澹台", "公冶", "太史", "申屠",
    "钟离", "赫连", "濮阳", "淳于", "单于", "拓跋", "百里", "东郭", "第五", "左丘", "梁丘", "羊舌",
)  # fmt: skip

COMMON_VARIANTS = ("肖", "付", "闫")
"""Common surnames in the spelling most people register under, which Faker's list only has as 萧, 傅, 阎."""

RARE_SURNAMES = tuple(
    "酆贲钮荀於羿汲邴糜隗宓郗钭韶莘逄郦郤璩濮郏宦暨殳夔厍訾乜巢竺桓谯笪眭禚庹郇仉佴缑"
)
"""Rare single surnames that Faker's list lacks (of the Hundred Family Surnames, and a few more): only
characters that start at most three words of jieba's dictionary, so that none reads an ordinary word as a
name."""

TITLES = ("先生", "女士", "小姐", "老师", "师傅", "同志", "律师", "医生", "经理", "总监", "同学", "大哥",
          "大姐", "阿姨", "您好")
"""Titles after a full name (`张伟先生`), and the greeting a message opens with (`【顺丰速运】孔明您好`)."""

RANKS = (
    "主任", "主管", "行长", "科长", "处长", "局长", "院长", "校长", "所长", "部长", "厂长", "组长", "队长",
    "店长", "老板", "老总", "董事长", "总经理", "警官", "法官", "会计", "护士", "教授", "博士", "大夫",
    "书记", "专员",
)  # fmt: skip
"""Ranks and occupations that make a form of address after a surname alone (`曹主任`, `李行长`), not a name;
unlike `TITLES` no evidence that a name stands before them, as an organisation's name as often does
(`中央党校副校长`)."""

SHORT_TITLES = ("某", "总", "工", "姐", "哥", "叔", "姨", "伯", "婶", "嫂")
"""One-character titles and forms of address after a surname (`邓某`, `徐总`, `王工`, `胡姐`): a surname
and a title, not a name (in a name column, `张哥` is the nickname a borrower saved)."""

KINSHIP = frozenset((
    "岳父", "岳母", "公公", "婆婆", "舅舅", "叔叔", "阿姨", "姑姑", "姨妈", "舅妈", "伯伯", "伯父", "伯母",
    "叔父", "婶婶", "姥姥", "姥爷", "爷爷", "奶奶", "外公", "外婆", "丈夫", "妻子", "儿子", "女儿", "哥哥",
    "姐姐", "弟弟", "妹妹", "父亲", "母亲", "爸爸", "妈妈", "老公", "老婆", "孙子", "孙女", "侄子", "侄女",
    "外甥", "表哥", "表姐", "堂哥", "堂姐", "师傅", "同事", "朋友", "邻居", "房东", "谢谢", "您好", "你好",
    "再见", "麻烦",
))  # fmt: skip
"""Words for a relation or courtesies, some of which start with a surname character (`岳父`, `谢谢`):
never a name."""

NAME_ENDS = "他她我你您啊吗呢吧呀哦嘛欠"
"""Pronouns, particles (`刘帅啊`) and 欠 (owes, after a debtor's name: `汤平欠的钱`): never a name's
characters, in `STOP` and `FUNCTION_CHARACTERS` both."""

STOP = frozenset(
    "的了在是和与及或等说称已于向给把被让对从到将会要也都还又就才再很不没无有这那其此各每号卡账款电手"
    "身先女共今昨前后上下里外来去回打拨联系表示同意承诺表并但而且则即系为因所以及代签收住总某本"
    "爸妈由帮" + NAME_ENDS
)
"""Characters that end a name rather than continue it: function words, pronouns and particles, and the first
characters of the words that follow names in notes (`电话`, `已还款`, `表示`, `称`)."""

PLACE_ENDS = frozenset("市省区县镇乡村路街道号楼室店司局行院厂部科处所站校园馆城"
                       "坪湾沟坡坝塘寨屯铺洼峪垭岙浜埠堡窑集巷弄埔墩")
"""Last characters of places and organisations, never of a given name: villages and neighbourhoods
below the divisions too (`杨家坪`, `刘家湾`, `王家坝`)."""

NON_NAME_TAGS = frozenset(("d", "v", "a", "c", "p", "r", "t", "m", "q", "u", "f", "s", "vn", "ad", "an", "b",
                            "z", "y", "e", "o", "vd", "mq", "l", "i"))
"""jieba tags of words that are never names even where a name is expected (adverbs, verbs, idioms…); a
rarer noun or place name there is somebody's name (`转给黎阳`, `代苏宁还款`)."""

FUNCTION_CHARACTERS = (
    "的了在是与及或等说称已给把被让对从到将会要也都还又就才再很不没无有这那此各每"
    "并但而且则即为因所以之着过们个地得" + NAME_ENDS
)
"""Characters that are never part of a bare name: function words and `NAME_ENDS`."""

MINORITY_NAME_PARTS = (
    # Tibetan
    "扎西", "多吉", "多杰", "尼玛", "次仁", "才让", "达瓦", "达娃", "顿珠", "卓玛", "央金", "格桑", "旺堆",
    "平措", "拉姆", "次旦", "才旦", "德吉", "白玛", "普布", "边巴", "巴桑", "索朗", "索南", "洛桑", "罗布",
    "强巴", "丹增", "旦增", "阿旺", "益西", "嘎玛", "桑珠", "仁青", "曲珍", "央宗", "卓嘎", "琼达", "梅朵",
    "美朵", "群培", "措姆", "拉巴", "米玛", "贡布", "泽仁", "拉珍", "旺姆", "次珍", "朗杰", "欧珠", "土登",
    "赤列", "晋美", "嘉措", "加措", "卓尕", "旦巴", "德庆", "拉措", "扎巴", "仁增", "边珍", "拉宗", "旺久",
    "群宗", "斯朗", "永措", "贡嘎",
    # Mongolian
    "斯琴", "高娃", "乌兰", "图雅", "娜仁", "萨仁", "宝音", "朝鲁", "苏和", "哈斯", "满都", "敖登", "塔娜",
    "巴图", "乌云", "次旺", "孟和", "毕力", "格日", "腾格", "吉日", "青格", "乌日", "赛音", "布和", "查干",
    "其其", "额尔", "巴雅", "那仁", "阿木", "达来", "德力", "格尔", "图门", "乌力", "吉雅", "其木", "木格",
    "琪琪", "苏德", "巴特", "特尔",
)  # fmt: skip
"""Halves of four-character Tibetan and Mongolian names (`扎西顿珠`, `斯琴高娃`): two of them in a row are
a name wherever they stand, one alone is a name where a cue says a name stands (`借款人：卓玛`)."""

MINORITY_NAMES = (
    "其其格", "宝音图", "阿拉坦仓", "阿拉坦", "巴特尔", "额尔敦", "毕力格", "毕力格图", "格日勒图",
    "格日乐图", "吉日木图", "吉日嘎拉", "乌日娜", "苏日娜", "萨日娜", "娜仁花", "满都拉", "特木尔",
    "朝鲁门", "巴雅尔", "乌力吉", "哈斯巴根", "阿古拉", "宝力道", "其木格", "敖其尔", "德力格尔", "额尔德尼",
    "朝克图", "陶格斯", "萨其拉", "乌云其木格", "敖日格乐", "那顺乌日图", "布仁巴雅尔", "呼和巴特尔",
    "孟和巴雅尔", "额尔敦巴根", "哈斯其其格", "乌兰其其格", "萨仁图雅", "苏伦高娃", "阿木尔", "乌兰托娅",
    "巴图孟和",
)  # fmt: skip
"""Mongolian names of one word, three characters or more: each is a name wherever it stands."""

MIN_WORD_FREQUENCY = 20
"""Dictionary words rarer than this are not trusted to be ordinary words (jieba lists many rare names)."""

COMMON_WORD_FREQUENCY = 500
"""Words at least this frequent are not names even after a strong label (`联系人信息`)."""

FREQUENT_WORD_FREQUENCY = 100
"""Words at least this frequent, whatever their tag, end a bare name before them (`张明天气`)."""

LENDING_WORDS = (
    "征信", "催收", "催告", "停催", "外访", "失联", "结清", "代扣", "划扣", "扣款", "代偿", "代还", "垫付",
    "展期", "续贷", "授信", "提额", "放款", "网贷", "罚息", "滞纳金", "服务费", "月供", "首付", "欠款",
    "欠费", "账单", "到账", "转账", "入账", "止付", "挂失", "补办", "办卡", "开户", "销户", "回访", "回电",
    "停机", "空号", "拒接", "挂断", "占线", "微信", "支付宝", "盖章", "签章", "用印", "关机", "开机", "门卫",
)  # fmt: skip
"""Words of lending and collection notes that jieba's dictionary lists rarely or not at all: ordinary and
frequent words to the name finder, so a name ends where one starts (`张伟结清贷款`: 张伟, not 张伟结) and
none is read as a surname and a given name."""

FAMOUS_WORD_FREQUENCY = 300
"""A bare surname and given character that make a word this frequent are that word, whatever its tag (the
dictionary tags `高峰`, `智慧` as names)."""


@built_once
def surnames() -> tuple[str, ...]:
    """Single surnames (Faker's zh_CN list, the most common first, `COMMON_VARIANTS` and `RARE_SURNAMES`)
    and the compound ones."""
    from faker.providers.person.zh_CN import Provider

    singles = tuple(s for s in Provider.last_names if len(s) == 1)
    return singles + COMMON_VARIANTS + RARE_SURNAMES + COMPOUND_SURNAMES


def _short_words() -> np.ndarray:
    """Which entries of jieba's dictionary are words of two or three characters at least
    `MIN_WORD_FREQUENCY` frequent: the words a name is looked up against."""
    words = dictionary()
    return (words.length >= 2) & (words.length <= 3) & (words.frequency >= MIN_WORD_FREQUENCY)


@built_once
def ordinary_words() -> frozenset[str]:
    """The dictionary's short words not tagged as names."""
    words = dictionary()
    return frozenset(words.words[i] for i in np.flatnonzero(_short_words() & ~words.name))


@built_once
def place_starts() -> frozenset[str]:
    """The first two and three characters of every division name (`玉树`, `玉树藏`): a name that starts one
    is a place."""
    return frozenset(name[:k] for name in division_names() for k in (2, 3) if len(name) > k)


WIDTH = 6
"""Characters of a candidate read: a compound surname and three more, with room to spare."""


@dataclass(frozen=True)
class Characters:
    """The characters of a batch that names are read from (`characters`): code point, first byte, width and
    value of each, with the UTF-8 bytes and value offsets they were decoded from."""

    data: np.ndarray
    offsets: np.ndarray
    point: np.ndarray
    at: np.ndarray
    width: np.ndarray
    value: np.ndarray


def characters(values: pa.Array) -> Characters:
    """The characters of a batch of strings that names are read from: every character that is not ASCII,
    and every ASCII character next to one in its value. A run of ASCII characters between two others
    (digits, a JSON key, an English sentence) is read as its first and last character: the neighbours of
    every Han character are as written, and a column of JSON or numbers holds few characters to judge.
    Raises UnicodeDecodeError where a value is not UTF-8."""
    try:
        values.validate(full=True)
    except pa.ArrowInvalid as error:
        raise UnicodeDecodeError("utf-8", b"", 0, 0, "not valid UTF-8") from error
    data, offsets = utf8_buffer(values)
    wide = data >= 0x80  # the bytes of characters beyond ASCII
    after, before = np.zeros(len(data), dtype=bool), np.zeros(len(data), dtype=bool)
    after[1:], before[:-1] = wide[:-1], wide[1:]
    bounds = offsets[1:-1][offsets[1:-1] < len(data)]  # a value's first byte: not next to the last one's
    after[bounds], before[bounds - 1] = False, False
    point, at, width = code_points(data, wide | after | before)
    per_value = np.diff(np.searchsorted(at, offsets))  # characters read in each value
    return Characters(data, offsets, point, at, width, np.repeat(np.arange(len(per_value)), per_value))


def window(text: Characters, row: np.ndarray, start: np.ndarray, end: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The code points of the characters of each span (value `row`, bytes `start` to `end`), then of the
    one character after it in its value, as an (n, `WIDTH` + 1) matrix padded with 0; each character's
    byte width; how many characters the span holds (at most `WIDTH`); and the character before the span
    (0 at the start of its value)."""
    count = len(row)
    chars = np.zeros((count, WIDTH + 1), dtype=np.int64)
    widths = np.zeros((count, WIDTH + 1), dtype=np.int64)
    length = np.zeros(count, dtype=np.int64)
    first = np.searchsorted(text.at, text.offsets[row] + start)
    end, limit = text.offsets[row] + end, text.offsets[row + 1]
    reading = np.ones(count, dtype=bool)
    last = max(len(text.at) - 1, 0)
    previous = np.maximum(first - 1, 0)
    before = np.where((first > 0) & (text.value[previous] == row), text.point[previous], 0)
    for column in range(WIDTH + 1):
        at = np.minimum(first + column, last)
        live = reading & (first + column < len(text.at)) & (text.at[at] < limit)
        chars[:, column] = np.where(live, text.point[at], 0)
        widths[:, column] = np.where(live, text.width[at], 0)
        inside = live & (text.at[at] < end)
        length += inside
        reading = inside  # the character after the span is read, then no more
    return chars, widths, length, before


def keys_at(chars: np.ndarray, start: np.ndarray | int, size: np.ndarray | int) -> np.ndarray:
    """The `size` (at most 3) characters of each row from `start` as one integer (21 bits a character),
    -1 where they would run past the row: a word's key in `tables`."""
    rows = np.arange(len(chars))
    start = np.broadcast_to(start, rows.shape)
    size = np.broadcast_to(size, rows.shape)
    key = np.zeros(len(chars), dtype=np.int64)
    for k in range(3):
        at = np.minimum(start + k, chars.shape[1] - 1)
        key |= np.where(k < size, chars[rows, at], 0) << (21 * k)
    return np.where((size <= 3) & (start + size <= chars.shape[1]), key, -1)


def member(keys: np.ndarray, table: str) -> np.ndarray:
    """Whether each key is in one of `tables` (sorted: a binary search, no set built per call)."""
    return tables()[table].contains(keys)


SKETCH_BITS = 20
"""A sketch has 2 ** this many entries (1 MiB): the 63,000 words of the largest table set about one in
sixteen."""
_SKETCH_MIN = 4096
"""Fewer keys than this are searched without a sketch (the search stays in the cache)."""


@dataclass(frozen=True)
class Sorted:
    """Sorted integer keys (words, or hashes of longer words) and, for many of them, a sketch: most keys
    looked up are no word, and one entry of the sketch each rules them out before the binary search."""

    keys: np.ndarray
    sketch: np.ndarray | None

    @classmethod
    def of(cls, keys: np.ndarray) -> Sorted:
        if len(keys) < _SKETCH_MIN:
            return cls(keys, None)
        sketch = np.zeros(1 << SKETCH_BITS, dtype=bool)
        sketch[_bit(keys)] = True
        return cls(keys, sketch)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each of `keys` is one of these."""
        if self.sketch is None:
            return in_sorted(keys, self.keys)
        found = self.sketch[_bit(keys)]
        found[found] = in_sorted(keys[found], self.keys)
        return found


def _bit(keys: np.ndarray) -> np.ndarray:
    """The sketch entry of each key: the top bits of the key times a large odd number (wrapping)."""
    return (keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - SKETCH_BITS)


def word_keys(words: Iterable[str]) -> np.ndarray:
    """The sorted keys of words of one to three characters (longer ones left out): 21 bits a character,
    the first lowest, as `keys_at` makes them from a batch's characters."""
    chosen = [w for w in words if 1 <= len(w) <= 3]
    if not chosen:
        return np.zeros(0, dtype=np.int64)
    points, position = code_points_of(chosen)
    return np.unique(np.add.reduceat(points << (21 * position), np.flatnonzero(position == 0)))


@built_once
def tables() -> dict[str, Sorted]:
    """The word lists `_han_names` looks characters and words up in, as sorted integer keys."""
    words = dictionary()
    short = _short_words()
    ordinary = short & ~words.name
    non_name_tag = np.array([tag in NON_NAME_TAGS for tag in words.tags])

    def entries(chosen: np.ndarray) -> np.ndarray:  # the chosen dictionary words and the lending words
        return word_keys([words.words[i] for i in np.flatnonzero(chosen)] + list(LENDING_WORDS))

    keys = {
        "compound": word_keys(COMPOUND_SURNAMES),
        "surnames": word_keys(name for name in surnames() if len(name) == 1),
        "stop": word_keys(STOP),
        "titles": word_keys(TITLES + RANKS + SHORT_TITLES),
        "words": entries(ordinary),
        "not_after_strong": entries(ordinary & (non_name_tag | (words.frequency >= COMMON_WORD_FREQUENCY))),
        # Bare names: any dictionary word (names of places or people the dictionary tags `nr` included).
        "any_words": entries(short),
        "frequent_words": entries(short & (words.frequency >= FREQUENT_WORD_FREQUENCY)),
        "famous_words": entries(short & (words.frequency >= FAMOUS_WORD_FREQUENCY)),
        "function": word_keys(FUNCTION_CHARACTERS),
        "after_name": word_keys(AFTER_A_NAME),
        "before_a_surname": word_keys(BEFORE_A_SURNAME),
        "familiar": word_keys(FAMILIAR),
        "minority_parts": word_keys(MINORITY_NAME_PARTS),
        "minority_firsts": word_keys(name[0] for name in MINORITY_NAMES),
        "division_ends": word_keys(suffix[-1] for suffix in DIVISION_SUFFIXES),
        "kinship": word_keys(KINSHIP),
        "place_ends": word_keys(PLACE_ENDS),
        "places": word_keys(place_starts()),
    }
    return {table: Sorted.of(known) for table, known in keys.items()}


AFTER_A_NAME = frozenset([a + b for a in "一二三四五六七八九十两" for b in "人位个名"]
                         + ["之" + kin for kin in "子女妻夫母父兄弟姐妹"])
"""Words that follow a name and never hold its characters: a number and a measure of people (`王怡三人`),
a relation of the person (`王莉之子`)."""

BEFORE_A_SURNAME = "阿和与及同跟"
"""Characters, surnames too, that stand before a surname used alone: `阿刘` is a form of address (as 老刘
is), `和朱律师` a conjunction and a surname with a title."""

FAMILIAR = "老小"
"""What makes a familiar form of address of the surname after it (`老孙`, `小冯`): no bare name follows."""


def form_of_address(head: np.ndarray, first: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Whether a surname (its first character `head`) and `given` characters, the first of them `first`,
    are a surname and a form of address (`王工`, `胡姐`, `谢哥均表示`), not a name: `first` is a title's,
    and alone or unlikely in a given name (`刘伯承`: 伯 is likely); or `head` is one of `BEFORE_A_SURNAME`
    and `first`, alone, a surname (`阿刘`, `和朱`)."""
    alone = (given == 1) & member(first, "surnames") & member(head, "before_a_surname")
    return (member(first, "titles") & ((given == 1) | (odds(first, GIVEN) < 0))) | alone


def relation_or_place(chars: np.ndarray, surname: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Whether each candidate (the rows of `chars`: a surname `surname` characters long, the candidate
    `size` in all) is a word for a relation, starts with one after the surname (`杨阿姨`), ends as a
    place does, or starts a place's name with the character after it (`玉树市`; a value's end is none)."""
    rows = np.arange(len(chars))
    relations = (keys_at(chars, 0, size), keys_at(chars, 0, surname + 1), keys_at(chars, surname, 2))
    starts_place = member(keys_at(chars, 0, size + 1), "places") & (chars[rows, np.minimum(size, WIDTH)] != 0)
    return (np.logical_or.reduce([member(word, "kinship") for word in relations])
            | member(chars[rows, size - 1], "place_ends") | starts_place)


LONG_WORD_LENGTHS = (4, 5)
"""Lengths of the dictionary words (idioms, transliterated places: `万无一失`, `阿姆斯特丹`) that a name is
never inside."""
BRANDS = (
    # Lenders' apps and products, named in collection notes.
    "花呗", "借呗", "安逸花", "微粒贷", "平安普惠", "宜人贷", "拍拍贷", "招联金融", "马上消费",
    "分期乐", "来分期", "京东白条", "度小满", "有钱花", "洋钱罐", "小赢卡贷", "中银消费", "苏宁金融",
    "你我贷", "信而富",
    # Shops and brands named like a person.
    "周大福", "周生生", "周六福", "王老吉", "张小泉", "马应龙", "陈李济", "谢馥春", "王致和", "杨国福",
    "李锦记", "徐福记", "谭木匠", "雷允上", "胡庆余堂", "王守义", "黄振龙", "邓老凉茶", "刘一手", "钱大妈",
    "周黑鸭", "陶陶居", "鲍师傅",
    # Couriers, who sign delivery messages (`申通：您的快递已送达…`).
    "申通", "圆通", "中通", "韵达", "顺丰", "德邦", "极兔", "百世",
)  # fmt: skip
"""Brands, products and couriers that read like a name (`在周大福买的`, `称花呗利息`, `申通：`): a name
found by its characters alone or after weak evidence is never inside one. Brands that are as often a
person's name (`李宁`) are not listed."""
_HASH_FACTOR = np.uint64(1_000_003)


def _hashed(columns: Iterable[np.ndarray]) -> np.ndarray:
    """The 64-bit hash of rows of code points given column by column (wrapping arithmetic): how a batch's
    windows and the words they are looked up in are hashed alike."""
    value = np.uint64(0)
    for column in columns:
        value = value * _HASH_FACTOR + column.astype(np.uint64)
    return np.asarray(value, dtype=np.uint64)


def _hashes(text: Characters, first: np.ndarray, length: int) -> np.ndarray:
    """The hash of the `length` characters from each of `first`."""
    last = max(len(text.point) - 1, 0)
    return _hashed(text.point[np.minimum(first + k, last)] for k in range(length))


def _by_length(words: Iterable[str]) -> dict[int, Sorted]:
    """The hashes of `words`, by length."""
    grouped: dict[int, list[str]] = {}
    for word in words:
        grouped.setdefault(len(word), []).append(word)
    return {length: Sorted.of(np.unique(_hashed(code_points_of(same)[0].reshape(-1, length).T)))
            for length, same in grouped.items()}


@built_once
def _long_words() -> dict[int, Sorted]:
    """Hashes of the ordinary words of jieba's dictionary of `LONG_WORD_LENGTHS`, and of the `BRANDS`, by
    length."""
    words = dictionary()
    chosen = np.flatnonzero(np.isin(words.length, LONG_WORD_LENGTHS) & ~words.name)
    return _by_length([words.words[i] for i in chosen] + list(BRANDS))


@built_once
def _full_divisions() -> dict[int, Sorted]:
    """Hashes of the division names written in full (`石家庄市`, `红河哈尼族彝族自治州`), by length."""
    return _by_length(name for name in division_names()
                      if len(name) >= 3 and name.endswith(DIVISION_SUFFIXES))


def _occurring(text: Characters, first: np.ndarray, at: np.ndarray, length: int, words: Sorted
               ) -> np.ndarray:
    """Whether the `length` characters from each of `first` lie in the value of `at` and are one of
    `words`."""
    if length > len(text.point):
        return np.zeros(len(first), dtype=bool)
    fits = (first >= 0) & (first + length <= len(text.point))
    first = np.clip(first, 0, max(len(text.point) - length, 0))
    fits &= (text.value[first] == text.value[at]) & (text.value[first + length - 1] == text.value[at])
    hashed = _hashes(text, first, length)
    return fits & words.contains(hashed)


def inside_long_word(text: Characters, at: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Whether the `size` characters from each of `at` lie within a word of `LONG_WORD_LENGTHS` or a brand
    in their value (`马到成功`, `阿姆斯特丹`, `周大福`)."""
    inside = np.zeros(len(at), dtype=bool)
    for length, hashes in _long_words().items():
        for shift in range(length):  # the word starts `shift` characters before `at`
            inside |= (size + shift <= length) & _occurring(text, at - shift, at, length, hashes)
    return inside


def listed_minority_names(text: Characters) -> tuple[np.ndarray, np.ndarray]:
    """Where the `MINORITY_NAMES` stand in a batch: the index of each one's first character, and its
    length."""
    at = np.flatnonzero(starts(text.point, "minority_firsts"))
    found = [(at[_occurring(text, at, at, length, hashes)], length)
             for length, hashes in _minority_names().items()]
    none = np.zeros(0, dtype=np.int64)
    return (np.concatenate([none] + [named for named, _ in found]),
            np.concatenate([none] + [np.full(len(named), length) for named, length in found]))


@built_once
def _minority_names() -> dict[int, Sorted]:
    return _by_length(MINORITY_NAMES)


def overlapping_division(text: Characters, at: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Whether the `size` characters from each of `at` (ascending) share one with a division's full name
    in their value (`石家庄市翔安区`: 庄市翔 is no name). Full names end in a division's suffix: only the
    windows that end on one near a span are looked up."""
    if not len(at):
        return np.zeros(0, dtype=bool)
    ends = np.flatnonzero(starts(text.point, "division_ends"))
    longest = max(_full_divisions(), default=0)
    nearest = np.searchsorted(at, ends, side="right") - 1  # the last span starting at or before each end
    reach = at[np.maximum(nearest, 0)] + size[np.maximum(nearest, 0)] + longest - 1
    ends = ends[(nearest >= 0) & (ends < reach)]  # ends of names that could overlap a span
    starts_of, ends_of = [], []
    for length, hashes in _full_divisions().items():
        named = ends[_occurring(text, ends - length + 1, ends, length, hashes)]
        starts_of.append(named - length + 1)
        ends_of.append(named + 1)
    found = np.concatenate(starts_of) if starts_of else np.zeros(0, dtype=np.int64)
    every = np.zeros(len(found), dtype=np.int64)  # character indexes run across values: one row for all
    return overlapping(np.zeros(len(at), dtype=np.int64), at, at + size, every, found,
                       np.concatenate(ends_of) if ends_of else found)


def run_keys(point: np.ndarray, at: np.ndarray, length: int) -> np.ndarray:
    """The `length` (at most 3) characters from each of `at` in `point` as keys of `tables` (21 bits a
    character, the first lowest; 0 for a character past the last)."""
    key = np.zeros(len(at), dtype=np.int64)
    last = max(len(point) - 1, 0)
    for k in range(length):
        character = np.where(at + k < len(point), point[np.minimum(at + k, last)], 0)
        key |= character.astype(np.int64) << (21 * k)
    return key


def starts(point: np.ndarray, table: str) -> np.ndarray:
    """Whether each code point is the first character of a word of `tables()[table]` (a lookup each)."""
    return _first_characters(table)[point]


@built_once
def _first_characters(table: str) -> np.ndarray:
    first = np.zeros(0x110000, dtype=bool)  # every code point
    first[tables()[table].keys & ((1 << 21) - 1)] = True
    return first


def is_han(points: np.ndarray) -> np.ndarray:
    """Whether each code point is a CJK unified ideograph (extension A included, as `patterns.HAN`)."""
    return ((points >= 0x4E00) & (points <= 0x9FFF)) | ((points >= 0x3400) & (points <= 0x4DBF))

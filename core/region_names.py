"""English names for administrative divisions.

Two sources, in this order:

1. A hand-written table (``KNOWN_NAMES``): the 34 province-level divisions, the regions named in the
   paired-assistance programmes (``domain/facts.md``: the Wenchuan counties, the Xinjiang and Xizang recipients),
   the prefecture-level divisions of Xinjiang and Xizang, and the XPCC division cities. These use the established
   English forms (Kashgar, Hotan, Lhasa, Shigatse, Ngari, Xizang…), which pinyin alone would not produce.
   Each entry is keyed by code *and* Chinese name: a code that names a different place in another vintage of the
   code list falls through to the generated name instead of inheriting the wrong English one.

2. A generated name for everything else (:func:`romanise`): the Chinese name minus its administrative suffix
   (and minus the ethnic-group words of an autonomous prefecture, county or banner), in pinyin without tones,
   followed by the English suffix: 汶川县 → "Wenchuan County", 南岸区 → "Nan'an District",
   石柱土家族自治县 → "Shizhu Autonomous County". pypinyin picks one reading per character or known phrase, so a
   few heteronyms in place names are misread; ``CHARACTER_READINGS`` and ``READING_FIXES`` correct the ones we
   know of.
"""

import re

from pypinyin import Style, lazy_pinyin

#: code → (Chinese name, English name). The Chinese name must match for the entry to apply.
KNOWN_NAMES: dict[str, tuple[str, str]] = {
    # Province-level divisions (provinces, autonomous regions, municipalities, special administrative regions).
    "110000": ("北京市", "Beijing"),
    "120000": ("天津市", "Tianjin"),
    "130000": ("河北省", "Hebei"),
    "140000": ("山西省", "Shanxi"),
    "150000": ("内蒙古自治区", "Inner Mongolia"),
    "210000": ("辽宁省", "Liaoning"),
    "220000": ("吉林省", "Jilin"),
    "230000": ("黑龙江省", "Heilongjiang"),
    "310000": ("上海市", "Shanghai"),
    "320000": ("江苏省", "Jiangsu"),
    "330000": ("浙江省", "Zhejiang"),
    "340000": ("安徽省", "Anhui"),
    "350000": ("福建省", "Fujian"),
    "360000": ("江西省", "Jiangxi"),
    "370000": ("山东省", "Shandong"),
    "410000": ("河南省", "Henan"),
    "420000": ("湖北省", "Hubei"),
    "430000": ("湖南省", "Hunan"),
    "440000": ("广东省", "Guangdong"),
    "450000": ("广西壮族自治区", "Guangxi"),
    "460000": ("海南省", "Hainan"),
    "500000": ("重庆市", "Chongqing"),
    "510000": ("四川省", "Sichuan"),
    "520000": ("贵州省", "Guizhou"),
    "530000": ("云南省", "Yunnan"),
    "540000": ("西藏自治区", "Xizang"),
    "610000": ("陕西省", "Shaanxi"),
    "620000": ("甘肃省", "Gansu"),
    "630000": ("青海省", "Qinghai"),
    "640000": ("宁夏回族自治区", "Ningxia"),
    "650000": ("新疆维吾尔自治区", "Xinjiang"),
    "710000": ("台湾省", "Taiwan"),
    "810000": ("香港特别行政区", "Hong Kong"),
    "820000": ("澳门特别行政区", "Macao"),
    # Sichuan: the Wenchuan earthquake reconstruction (2008) — recipients and their prefectures.
    "510100": ("成都市", "Chengdu City"),
    "510181": ("都江堰市", "Dujiangyan City"),
    "510182": ("彭州市", "Pengzhou City"),
    "510184": ("崇州市", "Chongzhou City"),
    "510600": ("德阳市", "Deyang City"),
    "510682": ("什邡市", "Shifang City"),
    "510683": ("绵竹市", "Mianzhu City"),
    "510700": ("绵阳市", "Mianyang City"),
    "510705": ("安州区", "Anzhou District"),
    "510724": ("安县", "An County"),
    "510726": ("北川羌族自治县", "Beichuan Qiang Autonomous County"),
    "510727": ("平武县", "Pingwu County"),
    "510781": ("江油市", "Jiangyou City"),
    "510800": ("广元市", "Guangyuan City"),
    "510822": ("青川县", "Qingchuan County"),
    "510823": ("剑阁县", "Jiange County"),
    "511800": ("雅安市", "Ya'an City"),
    "511823": ("汉源县", "Hanyuan County"),
    "513200": ("阿坝藏族羌族自治州", "Aba Tibetan and Qiang Autonomous Prefecture"),
    "513221": ("汶川县", "Wenchuan County"),
    "513222": ("理县", "Li County"),
    "513223": ("茂县", "Mao County"),
    "513224": ("松潘县", "Songpan County"),
    "513227": ("小金县", "Xiaojin County"),
    "513228": ("黑水县", "Heishui County"),
    "513231": ("阿坝县", "Aba County"),
    "513300": ("甘孜藏族自治州", "Garzê Tibetan Autonomous Prefecture"),
    "513400": ("凉山彝族自治州", "Liangshan Yi Autonomous Prefecture"),
    # Assisting cities named in the programmes.
    "440300": ("深圳市", "Shenzhen City"),
    "440400": ("珠海市", "Zhuhai City"),
    # Xizang: prefecture-level divisions and the counties named in the programmes.
    "540100": ("拉萨市", "Lhasa City"),
    "540200": ("日喀则市", "Shigatse City"),
    "540226": ("昂仁县", "Ngamring County"),
    "540236": ("萨嘎县", "Saga County"),
    "540300": ("昌都市", "Chamdo City"),
    "540400": ("林芝市", "Nyingchi City"),
    "540500": ("山南市", "Shannan City"),
    "540600": ("那曲市", "Nagqu City"),
    "542400": ("那曲地区", "Nagqu Prefecture"),
    "542421": ("那曲县", "Nagqu County"),
    "542500": ("阿里地区", "Ngari Prefecture"),
    # Xinjiang: prefecture-level divisions and the counties named in the programmes.
    "650100": ("乌鲁木齐市", "Urumqi City"),
    "650200": ("克拉玛依市", "Karamay City"),
    "650400": ("吐鲁番市", "Turpan City"),
    "650500": ("哈密市", "Hami City"),
    "652300": ("昌吉回族自治州", "Changji Hui Autonomous Prefecture"),
    "652700": ("博尔塔拉蒙古自治州", "Bortala Mongol Autonomous Prefecture"),
    "652800": ("巴音郭楞蒙古自治州", "Bayingolin Mongol Autonomous Prefecture"),
    "652900": ("阿克苏地区", "Aksu Prefecture"),
    "653000": ("克孜勒苏柯尔克孜自治州", "Kizilsu Kyrgyz Autonomous Prefecture"),
    "653100": ("喀什地区", "Kashgar Prefecture"),
    "653101": ("喀什市", "Kashgar City"),
    "653121": ("疏附县", "Shufu County"),
    "653125": ("莎车县", "Shache County"),
    "653129": ("伽师县", "Jiashi County"),
    "653131": ("塔什库尔干塔吉克自治县", "Tashkurgan Tajik Autonomous County"),
    "653200": ("和田地区", "Hotan Prefecture"),
    "653201": ("和田市", "Hotan City"),
    "653221": ("和田县", "Hotan County"),
    "653222": ("墨玉县", "Moyu County"),
    "653223": ("皮山县", "Pishan County"),
    "653224": ("洛浦县", "Luopu County"),
    "654000": ("伊犁哈萨克自治州", "Ili Kazakh Autonomous Prefecture"),
    "654200": ("塔城地区", "Tacheng Prefecture"),
    "654300": ("阿勒泰地区", "Altay Prefecture"),
    "654301": ("阿勒泰市", "Altay City"),
    # Cities administered by divisions of the Xinjiang Production and Construction Corps (XPCC).
    "659001": ("石河子市", "Shihezi City"),
    "659002": ("阿拉尔市", "Aral City"),
    "659003": ("图木舒克市", "Tumxuk City"),
    "659004": ("五家渠市", "Wujiaqu City"),
    "659005": ("北屯市", "Beitun City"),
    "659006": ("铁门关市", "Tiemenguan City"),
    "659007": ("双河市", "Shuanghe City"),
    "659008": ("可克达拉市", "Kokdala City"),
    "659009": ("昆玉市", "Kunyu City"),
    "659010": ("胡杨河市", "Huyanghe City"),
    "659011": ("新星市", "Xinxing City"),
    "659012": ("白杨市", "Baiyang City"),
    # Hainan's Sansha: island groups whose names carry no administrative suffix.
    "460321": ("西沙群岛", "Xisha Islands"),
    "460322": ("南沙群岛", "Nansha Islands"),
    "460323": ("中沙群岛的岛礁及其海域", "Zhongsha Islands"),
}

#: Administrative suffixes, longest first (so 自治县 wins over 县 and 林区 over 区).
SUFFIXES: tuple[tuple[str, str], ...] = (
    ("特别行政区", "Special Administrative Region"),
    ("自治区", "Autonomous Region"),
    ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("林区", "Forestry District"),
    ("矿区", "Mining District"),
    ("新区", "New Area"),
    ("特区", "Special District"),
    ("地区", "Prefecture"),
    ("省", "Province"),
    ("市", "City"),
    ("县", "County"),
    ("区", "District"),
    ("盟", "League"),
    ("旗", "Banner"),
)

#: Ethnic groups as they appear in the names of autonomous areas (the 族 that usually follows is optional).
ETHNIC_GROUPS: tuple[str, ...] = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼",
    "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克",
    "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
    "各",  # 各族: "of the various ethnic groups" (龙胜各族自治县)
)  # fmt: skip

# One ethnic group: a single-character name only with 族 (so 白沙 is not read as 白 + 沙), a longer one with or
# without it (伊犁哈萨克自治州).
_ETHNIC = "|".join(
    f"{re.escape(g)}族" if len(g) == 1 else f"{re.escape(g)}族?" for g in sorted(ETHNIC_GROUPS, key=len, reverse=True)
)
_PLACE_AND_GROUPS = re.compile(rf"^(?P<place>.+?)(?:{_ETHNIC})+$")
_AUTONOMOUS = ("自治州", "自治县", "自治旗", "自治区")

#: Characters whose place-name reading differs from pypinyin's default (长沙, 成都, 阿勒泰, 蚌山, 塔什库尔干).
CHARACTER_READINGS: dict[str, str] = {"长": "chang", "都": "du", "勒": "le", "蚌": "beng", "什": "shi"}

#: Whole place parts that pypinyin (or the character table above) reads wrongly → their pinyin syllables.
READING_FIXES: dict[str, str] = {
    "长子": "zhang zi",
    "朝阳": "chao yang",
    "六合": "lu he",
    "单": "shan",
    "蔚": "yu",
    "浚": "xun",
    "荥经": "ying jing",
    "洪洞": "hong tong",
    "涡阳": "guo yang",
}


def split_suffix(name: str) -> tuple[str, str, str]:
    """NAME as (place part, Chinese suffix, English suffix); both suffixes are "" when NAME has none we know."""
    for chinese, english in SUFFIXES:
        if name.endswith(chinese):
            return name[: -len(chinese)], chinese, english
    return name, "", ""


def strip_ethnic_groups(place: str) -> str:
    """The place part of an autonomous area's name without its ethnic groups: 石柱土家族 → 石柱.
    A name that is nothing but an ethnic group keeps it, without 族 (东乡族 → 东乡)."""
    match = _PLACE_AND_GROUPS.match(place)
    if match:
        return match.group("place")
    return place.removesuffix("族") or place


def pinyin(text: str) -> str:
    """TEXT in toneless pinyin as one capitalised word, with the apostrophe before a syllable that starts with a
    vowel (西安 → "Xi'an", 南岸 → "Nan'an")."""
    if text in READING_FIXES:
        syllables = READING_FIXES[text].split()
    else:
        syllables = lazy_pinyin(text, style=Style.NORMAL, v_to_u=True, errors="ignore")
        if len(syllables) == len(text):  # one syllable per character: apply the place-name readings
            syllables = [CHARACTER_READINGS.get(char, syl) for char, syl in zip(text, syllables, strict=True)]
    word = ""
    for syllable in syllables:
        if word and syllable[:1] in "aoe":
            word += "'"
        word += syllable
    return word[:1].upper() + word[1:]


def romanise(name: str) -> str:
    """A generated English name: 汶川县 → "Wenchuan County", 阿坝藏族羌族自治州 → "Aba Autonomous Prefecture"."""
    place, chinese_suffix, english_suffix = split_suffix(name)
    if chinese_suffix in _AUTONOMOUS or place.endswith("族"):  # also ethnic districts: 顺河回族区
        place = strip_ethnic_groups(place)
    if not place:  # a name that is only a suffix, such as 矿区
        return english_suffix or name
    romanised = pinyin(place)
    if not romanised:  # nothing pypinyin can read: keep the Chinese
        return name
    return f"{romanised} {english_suffix}" if english_suffix else romanised


def english_name(code: str, name: str) -> str:
    """The English name of the region CODE called NAME: the table's where it knows the region, else generated."""
    known = KNOWN_NAMES.get(code)
    if known and known[0] == name:
        return known[1]
    return romanise(name)


def _syllables(text: str) -> list[str]:
    """TEXT's toneless pinyin syllables, with the place-name readings of ``pinyin``."""
    if text in READING_FIXES:
        return READING_FIXES[text].split()
    syllables = lazy_pinyin(text, style=Style.NORMAL, v_to_u=True, errors="ignore")
    if len(syllables) == len(text):
        syllables = [CHARACTER_READINGS.get(char, syl) for char, syl in zip(text, syllables, strict=True)]
    return [s for s in syllables if s]


def search_keys(name: str) -> tuple[str, str]:
    """What a region picker matches typed pinyin against: NAME's full pinyin in lower case without spaces or
    apostrophes, and its initials (疏附县 → ("shufuxian", "sfx"); 长沙市 → ("changshashi", "css"))."""
    place, suffix, _english = split_suffix(name)
    syllables = _syllables(place) + _syllables(suffix)
    full = "".join(syllables).replace("ü", "v").lower()
    initials = "".join(s[0] for s in syllables).replace("ü", "v").lower()
    return full, initials

"""Which region a parcel goes to, read from the address a buyer typed (or a location they shared).

For China the region is the province-level division (31 provinces, autonomous regions and
municipalities, plus Hong Kong, Macau and Taiwan): `CN-42` is Hubei, by its administrative code.
Elsewhere it is the country (`JP`). Shipping rules (core/shipping.py) are keyed by these.

A Chinese address often names only its city or district ("宜昌市夷陵区…" is Hubei), with or without
the 市, sometimes with the province's one-character abbreviation (鄂) or a typo. We look every
division's name up in the address (full names and their short forms, from the administrative
data in core/data/, which comes from the cpca package) and weigh the evidence: a province named
outright settles it; a city outweighs a district; a district inside a named city is strong. A
district name that exists in several provinces (鼓楼区, 朝阳区) with nothing else to tell them apart
does not settle it: `Found.candidates` lists the provinces and the buyer picks. Never a guess.

Pure and offline: no Telegram, no database. The data (3,200 divisions) is read once, on first use.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale

DATA = Path(__file__).with_name("data") / "cn_divisions.csv"
CHINA = "CN"

# English names of the province-level divisions, by the first two digits of their code.
PROVINCE_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia", "21": "Liaoning",
    "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu", "33": "Zhejiang", "34": "Anhui",
    "35": "Fujian", "36": "Jiangxi", "37": "Shandong", "41": "Henan", "42": "Hubei", "43": "Hunan",
    "44": "Guangdong", "45": "Guangxi", "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou",
    "53": "Yunnan", "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang", "71": "Taiwan", "81": "Hong Kong", "82": "Macau",
}
# Other ways the province-level divisions are written (English spellings, common alternatives).
PROVINCE_ALIASES = {
    "Xizang": "54", "Macao": "82", "Nei Mongol": "15", "Inner Mongolia": "15", "Peking": "11",
    "Shensi": "61", "Kwangtung": "44", "Canton": "44",
}
# The one-character abbreviations (简称) on licence plates and parcels: "鄂" is Hubei. Only read at
# the start of an address, and only as support for other evidence: "新华路…" is not Xinjiang.
ABBREVIATIONS = {
    "京": "11", "津": "12", "冀": "13", "晋": "14", "蒙": "15", "辽": "21", "吉": "22", "黑": "23", "沪": "31",
    "苏": "32", "浙": "33", "皖": "34", "闽": "35", "赣": "36", "鲁": "37", "豫": "41", "鄂": "42", "湘": "43",
    "粤": "44", "桂": "45", "琼": "46", "渝": "50", "川": "51", "蜀": "51", "黔": "52", "贵": "52", "滇": "53",
    "云": "53", "藏": "54", "陕": "61", "秦": "61", "甘": "62", "陇": "62", "青": "63", "宁": "64", "新": "65",
    "台": "71", "港": "81", "澳": "82",
}
# Traditional forms and look-alike typos of characters in division names, mapped to the ones in
# the data (an address typed in Hong Kong or Taiwan, or with 巿 for 市).
_CHARACTERS = str.maketrans(
    "巿廣東門慶臺灣陽龍遼寧蘇貴雲陝內區縣島廈漢華興長鄭開紅黃烏魯齊爾濱義莊連鄉車馬鎮蘭寶瀋岡陸為國圍淺灘環觀將軍園橋樓滬溝鹽濟衛錫揚韓聖無維葉臨貢術號彌頓",
    "市广东门庆台湾阳龙辽宁苏贵云陕内区县岛厦汉华兴长郑开红黄乌鲁齐尔滨义庄连乡车马镇兰宝沈冈陆为国围浅滩环观将军园桥楼沪沟盐济卫锡扬韩圣无维叶临贡术号弥顿")
# The data has Hong Kong, Macau and Taiwan as one entry each: their cities and districts, as
# addresses there name them (simplified; traditional forms are mapped to these first).
_PLACES_WITHOUT_DATA = {
    "71": ("台北", "新北市", "桃园市", "台中", "台南", "高雄", "基隆", "新竹", "嘉义", "苗栗", "彰化", "南投", "云林",
           "屏东", "宜兰", "花莲", "台东", "澎湖"),
    "81": ("九龙", "新界", "香港岛", "湾仔", "铜锣湾", "旺角", "尖沙咀", "油麻地", "沙田", "荃湾", "屯门", "元朗",
           "将军澳", "观塘", "深水埗", "葵涌", "中环", "上环", "西贡", "离岛", "北角"),
    "82": ("氹仔", "路环", "路氹", "澳门半岛"),
}
# A name followed by one of these is a street or a building named after a place ("北京路",
# "中山大学"), not the place.
_NOT_A_PLACE_AFTER = re.compile(r"[东西南北中一二三四五六七八九十]?[路街道巷弄]|大道|大街|大学|公园|广场|大厦|花园|小区|中学|小学|"
                                r"医院|商场|饭店|酒店|宾馆|胡同")
_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_CITY_SUFFIXES = ("自治州", "地区", "市", "盟")
_DISTRICT_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "新区", "县", "区", "市", "旗")
# Short forms too common as ordinary words to stand for a place on their own.
_SHORT_STOPLIST = {"市中", "新区", "城区", "郊区", "矿区", "开发", "高新", "经济", "中心", "东区", "西区", "南区", "北区"}

PROVINCE, CITY, DISTRICT = 1, 2, 3
# Weight of one mention, by level and by whether it was written in full (with 市/区/县 ...).
_WEIGHT = {(PROVINCE, True): 100, (PROVINCE, False): 100, (CITY, True): 15, (CITY, False): 10,
           (DISTRICT, True): 3, (DISTRICT, False): 2}
_NESTED = 20       # a district inside a city the address also names
_ABBREVIATION = 1  # the leading 鄂: enough to break a tie, never alone
_SETTLES = 3       # below this (a short district name alone) the buyer is asked


@dataclass(frozen=True)
class Division:
    code: str   # 12 digits
    name: str
    level: int
    lat: float | None
    lon: float | None

    @property
    def province(self) -> str:
        return self.code[:2]

    @property
    def city(self) -> str:
        return self.code[:4]


@dataclass(frozen=True)
class Found:
    """What an address says about its region: `region` when it settles it; otherwise
    `candidates`, the regions it could be (empty when it names none we know)."""
    region: str | None
    candidates: tuple[str, ...] = ()


def province_region(province: str) -> str:
    return f"{CHINA}-{province}"


def is_china(region: str | None) -> bool:
    return region is not None and (region == CHINA or region.startswith(CHINA + "-"))


def country_of(region: str) -> str:
    return CHINA if is_china(region) else region


def china_regions() -> list[str]:
    """The 34 province-level regions, in the order of their codes (north to south-west, then HK/MO/TW)."""
    return [province_region(code) for code in sorted(PROVINCE_EN)]


def region_name(region: str, language: str) -> str:
    """How a region is named to a buyer or merchant: 湖北省 / Hubei, 日本 / Japan."""
    if region.startswith(CHINA + "-"):
        code = region[3:]
        if language == "zh":
            return _data().provinces[code].name
        return PROVINCE_EN.get(code, region)
    try:
        return Locale.parse(language).territories.get(region, region)
    except (ValueError, TypeError):
        return region


def _strip(name: str, suffixes: tuple[str, ...], ethnic: bool) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    if ethnic:  # "恩施土家族苗族" -> "恩施", "伊犁哈萨克" -> "伊犁"
        changed = True
        while changed:
            changed = False
            for people in _data_peoples():
                if name.endswith(people) and len(name) > len(people):
                    name, changed = name[: -len(people)], True
    return name


@cache
def _data_peoples() -> tuple[str, ...]:
    # The 56 recognised peoples, with and without 族, longest first ("哈萨克族" before "哈萨克").
    peoples = ["汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
               "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜",
               "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒",
               "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲",
               "门巴", "珞巴", "基诺", "各族"]
    forms = {p + "族" for p in peoples} | {p for p in peoples if len(p) > 1}
    return tuple(sorted(forms, key=len, reverse=True))


class _Data:
    def __init__(self) -> None:
        self.provinces: dict[str, Division] = {}
        self.divisions: list[Division] = []
        # name -> [(division, written in full)]
        self.keys: dict[str, list[tuple[Division, bool]]] = defaultdict(list)
        with DATA.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                code = row["adcode"]
                level = PROVINCE if code[2:] == "0" * 10 else CITY if code[4:] == "0" * 8 else DISTRICT
                lat = float(row["latitude"]) if row["latitude"] else None
                lon = float(row["longitude"]) if row["longitude"] else None
                division = Division(code, row["name"], level, lat, lon)
                self.divisions.append(division)
                if level == PROVINCE:
                    self.provinces[division.province] = division
                self._add_names(division)
        for code, names in _PLACES_WITHOUT_DATA.items():
            for name in names:  # (金门, 连江 and 大埔 are left out: the mainland has counties so named)
                self.keys[name].append((Division(code + "9" * 10, name, CITY, None, None), True))
        for key, hits in self.keys.items():
            # A short name that only one district has is as good as its full name when it is three
            # or more characters ("神农架", "浦东") or a county-level city's ("义乌", "昆山").
            if (len(key) >= 3 or hits[0][0].name.endswith("市")) and len(hits) == 1 and hits[0][0].level == DISTRICT and not hits[0][1]:
                hits[0] = (hits[0][0], True)
        for code, name in PROVINCE_EN.items():
            self.keys[name.lower()].append((self.provinces[code], True))
        for name, code in PROVINCE_ALIASES.items():
            self.keys[name.lower()].append((self.provinces[code], True))
        self.longest = max(len(k) for k in self.keys)

    def _add_names(self, division: Division) -> None:
        self.keys[division.name].append((division, True))
        suffixes = {PROVINCE: _PROVINCE_SUFFIXES, CITY: _CITY_SUFFIXES, DISTRICT: _DISTRICT_SUFFIXES}[division.level]
        short = _strip(division.name, suffixes, ethnic="自治" in division.name and division.level != PROVINCE)
        if short != division.name and len(short) >= 2 and short not in _SHORT_STOPLIST:
            self.keys[short].append((division, False))


@cache
def _data() -> _Data:
    return _Data()


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_CHARACTERS)
    return re.sub(r"[\s,，.。、;；:：()（）\[\]【】\-—_/#·]+", " ", text).strip()


def _mentions(text: str) -> list[tuple[int, str, list[tuple[Division, bool]]]]:
    """The division names in `text`, leftmost-longest, skipping streets named after places."""
    data = _data()
    lowered = text.lower()
    found = []
    i = 0
    while i < len(text):
        for length in range(min(data.longest, len(text) - i), 1, -1):
            key = lowered[i:i + length]
            hits = data.keys.get(key)
            if not hits:
                continue
            if key.isascii():  # an English name must be a whole word: "Hubei", not "ShanghaiRoad"
                before = lowered[i - 1] if i else " "
                after = lowered[i + length] if i + length < len(lowered) else " "
                if before.isalnum() or after.isalnum():
                    continue
            rest = text[i + length:]
            if _NOT_A_PLACE_AFTER.match(rest) and not any(full for d, full in hits if d.level == DISTRICT):
                continue
            found.append((i, key, hits))
            i += length - 1
            break
        i += 1
    return found


def find(address: str, home: str = CHINA) -> Found:
    """The region an address ships to. `home` is the shop's own country: an address that names no
    country and no Chinese place is taken to be in it, unless it is China (where the province
    matters and the buyer is asked)."""
    text = _normalize(address)
    scores: dict[str, float] = defaultdict(float)
    cities = set()
    mentions = _mentions(text)
    for _pos, _key, hits in mentions:
        for division, _full in hits:
            if division.level == CITY:
                cities.add(division.city)
    for _pos, _key, hits in mentions:
        best: dict[str, float] = {}
        for division, full in hits:  # one mention counts once per province, by its best reading
            weight: float = _WEIGHT[(division.level, full)]
            if division.level == DISTRICT and division.city in cities:
                weight += _NESTED
            best[division.province] = max(best.get(division.province, 0), weight)
        for province, weight in best.items():
            scores[province] += weight
    if not scores:
        country = _country(text)
        if country is not None and country != CHINA:
            return Found(country)
        if home != CHINA:
            return Found(home)
        return Found(None)
    if text[:1] in ABBREVIATIONS and ABBREVIATIONS[text[:1]] in scores:
        scores[ABBREVIATIONS[text[:1]]] += _ABBREVIATION
    top = max(scores.values())
    leaders = sorted(p for p, s in scores.items() if s == top)
    if len(leaders) == 1 and top >= _SETTLES:
        region = province_region(leaders[0])
        return Found(region if home == CHINA else country_of(region))
    ranked = sorted(scores, key=lambda p: (-scores[p], p))
    candidates = tuple(province_region(p) for p in ranked if scores[p] >= min(top, _SETTLES) or p in leaders)
    if home != CHINA:
        return Found(CHINA)  # somewhere in China: rules abroad are per country
    return Found(None, candidates)


@cache
def _countries() -> dict[str, str]:
    """Country names in English and Chinese (Babel's CLDR data) -> ISO code, for addresses abroad."""
    names: dict[str, str] = {}
    for language in ("en", "zh", "zh_Hant"):
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha() and code not in ("HK", "MO", "TW", "EU", "EZ", "UN", "ZZ"):
                names[name.lower()] = code
    names.update({"usa": "US", "u.s.a.": "US", "uk": "GB", "korea": "KR", "south korea": "KR", "中国大陆": "CN",
                  "china": "CN", "prc": "CN"})
    return names


def _country(text: str) -> str | None:
    lowered = text.lower()
    best: tuple[int, str] | None = None
    for name, code in _countries().items():
        if name.isascii():
            match = re.search(r"(?<![a-z])" + re.escape(name) + r"(?![a-z])", lowered)
        else:
            match = re.search(re.escape(name), lowered) if len(name) >= 2 else None
        if match and (best is None or len(name) > best[0]):
            best = (len(name), code)
    return best[1] if best else None


# ---------------------------------------------------------------- a shared location

NEAR_KM = 60           # a point this close to a district's seat is in that district's province
AMBIGUOUS_RATIO = 1.25  # unless another province's seat is nearly as close


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 12742 * math.asin(math.sqrt(a))


def from_location(latitude: float, longitude: float, home: str = CHINA) -> Found:
    """The region of a shared location, found offline from the nearest division seats: settled
    when the nearest seat is close and no other province's is nearly as close (near a border the
    buyer is asked, with both provinces offered). Outside China: not known (the buyer is asked)."""
    if not (17 <= latitude <= 54 and 73 <= longitude <= 136):
        return Found(None)
    nearest: dict[str, float] = {}
    for division in _data().divisions:
        if division.lat is None or division.lon is None or division.level == PROVINCE and division.province not in (
                "71", "81", "82"):
            continue
        distance = _km(latitude, longitude, division.lat, division.lon)
        if distance < nearest.get(division.province, math.inf):
            nearest[division.province] = distance
    ranked = sorted(nearest, key=nearest.__getitem__)
    if not ranked:
        return Found(None)
    first = ranked[0]
    limit = NEAR_KM * (4 if first in ("71", "81", "82") else 1)  # those have one seat for the whole region
    if nearest[first] > limit:
        return Found(None)
    close = [p for p in ranked[:3] if nearest[p] <= max(nearest[first] * AMBIGUOUS_RATIO, nearest[first] + 5)]
    if len(close) > 1:
        return Found(None, tuple(province_region(p) for p in close))
    region = province_region(first)
    return Found(region if home == CHINA else CHINA)


# ---------------------------------------------------------------- a region named by a merchant

# Groups a merchant names in one word: "偏远地区 不发货", "港澳台 20".
REMOTE_PROVINCES = ("65", "54", "63", "64", "15", "62", "46")  # 新疆 西藏 青海 宁夏 内蒙古 甘肃 海南
HK_MACAU_TAIWAN = ("81", "82", "71")
GROUPS = {"偏远": REMOTE_PROVINCES, "偏远地区": REMOTE_PROVINCES, "remote": REMOTE_PROVINCES,
          "港澳台": HK_MACAU_TAIWAN, "hk/macau/taiwan": HK_MACAU_TAIWAN, "江浙沪": ("32", "33", "31")}


def by_name(name: str) -> tuple[str, ...] | None:
    """The regions a merchant means by a name: a province (湖北, 湖北省, Hubei, 鄂), a group
    (偏远地区, 港澳台, 江浙沪) or a country (日本, Japan, JP); None when it names none of them."""
    key = _normalize(name).replace(" ", "").lower() if not name.isascii() else " ".join(name.lower().split())
    if not key:
        return None
    if key in GROUPS:
        return tuple(province_region(p) for p in GROUPS[key])
    if key in ABBREVIATIONS and len(key) == 1:
        return (province_region(ABBREVIATIONS[key]),)
    for division, _full in _data().keys.get(key, ()):
        if division.level == PROVINCE:
            return (province_region(division.province),)
    countries = _countries()
    code = countries.get(key) or (key.upper() if len(key) == 2 and key.upper() in countries.values() else None)
    if code is not None and code != CHINA:
        return (code,)
    return None

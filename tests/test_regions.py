"""Reading the region from an address (core/regions.py): the province must be right for at least
97% of the addresses that name it; an address that does not settle it offers the candidates."""

from __future__ import annotations

import pytest

from core.regions import by_name, find, from_location, region_name

# (address as buyers type it, the province's code). Full addresses, city or district only,
# abbreviations, no 市, typos, traditional characters, English, HK/Macau/Taiwan.
SETTLED = [
    ("湖北省宜昌市夷陵区发展大道1号", "42"),
    ("宜昌市夷陵区小溪塔街道", "42"),
    ("宜昌夷陵区", "42"),
    ("鄂宜昌西陵区东山大道", "42"),
    ("胡北省宜昌市伍家岗区", "42"),          # 湖 typed as 胡
    ("湖北剩武汉市洪山区珞喻路", "42"),      # 省 typed as 剩
    ("武汉洪山区光谷", "42"),
    ("恩施州巴东县信陵镇", "42"),
    ("神农架松柏镇", "42"),
    ("北京市朝阳区建国路88号", "11"),
    ("北京海淀区中关村大街1号", "11"),
    ("海淀区中关村", "11"),
    ("吉林省长春市朝阳区", "22"),
    ("长春朝阳区红旗街", "22"),
    ("吉林市船营区", "22"),
    ("南京市鼓楼区中山路", "32"),
    ("福州鼓楼区五一路", "35"),
    ("开封鼓楼区", "41"),
    ("徐州市鼓楼区", "32"),
    ("常州新北区", "32"),
    ("苏州工业园区星湖街", "32"),
    ("无锡滨湖区", "32"),
    ("上海市浦东新区世纪大道100号", "31"),
    ("上海黄浦区南京东路", "31"),
    ("浦东新区张江", "31"),
    ("杭州市西湖区文三路", "33"),
    ("浙江温州鹿城区", "33"),
    ("义乌稠城街道", "33"),
    ("宁波江北区", "33"),
    ("重庆渝中区解放碑", "50"),
    ("重庆市江北区观音桥", "50"),
    ("广州市天河区天河路385号", "44"),
    ("深圳南山区科技园", "44"),
    ("东莞市南城区", "44"),
    ("佛山顺德区大良", "44"),
    ("广东省中山市石岐区", "44"),
    ("成都市武侯区人民南路", "51"),
    ("四川成都锦江区", "51"),
    ("郑州金水区花园路", "41"),
    ("长沙岳麓区", "43"),
    ("南昌红谷滩", "36"),
    ("哈尔滨南岗区", "23"),
    ("呼和浩特赛罕区", "15"),
    ("内蒙古包头市昆都仑区", "15"),
    ("银川兴庆区", "64"),
    ("宁夏银川市金凤区", "64"),
    ("西宁城西区", "63"),
    ("兰州城关区", "62"),
    ("海口美兰区", "46"),
    ("三亚市吉阳区", "46"),
    ("西藏拉萨城关区北京中路", "54"),
    ("新疆乌鲁木齐市天山区解放南路", "65"),
    ("喀什地区喀什市", "65"),
    ("伊犁州伊宁市", "65"),
    ("大理白族自治州大理市", "53"),
    ("昆明五华区", "53"),
    ("贵阳观山湖区", "52"),
    ("桂林秀峰区", "45"),
    ("南宁青秀区", "45"),
    ("济南历下区", "37"),
    ("青岛市南区香港中路", "37"),      # 香港中路 is a street in Qingdao
    ("石家庄长安区", "13"),
    ("西安雁塔区", "61"),
    ("太原小店区", "14"),
    ("沈阳和平区", "21"),
    ("大连中山区人民路", "21"),
    ("天津和平区", "12"),
    ("合肥蜀山区", "34"),
    ("厦门思明区", "35"),
    ("泉州晋江", "35"),
    ("湖北宜昌 北京路10号", "42"),      # 北京路 is a street, not Beijing
    ("香港九龍彌敦道100號", "81"),
    ("香港新界沙田", "81"),
    ("澳門氹仔", "82"),
    ("臺北市信義區", "71"),
    ("新北市板橋區", "71"),
    ("Wuhan, Hubei", "42"),
    ("Room 5, Guangzhou, Guangdong", "44"),
    ("Shanghai", "31"),
    ("Hong Kong", "81"),
]

# Nothing here settles the province: the buyer picks from these candidates.
AMBIGUOUS = [
    ("鼓楼区中山路3号", {"32", "35", "41"}),
    ("朝阳区", {"11", "22"}),
    ("江北区", {"33", "50"}),
    ("西湖区", {"33", "36"}),
    ("白云区", {"44", "52"}),
]


def test_at_least_97_percent_of_addresses_that_name_their_province_get_it_right():
    assert len(SETTLED) + len(AMBIGUOUS) >= 60
    wrong = [(address, find(address).region, code) for address, code in SETTLED
             if find(address).region != f"CN-{code}"]
    right = len(SETTLED) - len(wrong)
    assert right / len(SETTLED) >= 0.97, wrong


def test_never_a_wrong_province_only_right_or_asked():
    """Where the reading is not right, it must be a question, never another province."""
    for address, code in SETTLED:
        found = find(address)
        assert found.region in (f"CN-{code}", None), address


@pytest.mark.parametrize("address,codes", AMBIGUOUS)
def test_a_district_in_several_provinces_is_not_settled_and_offers_them(address, codes):
    found = find(address)
    assert found.region is None
    assert {c[3:] for c in found.candidates} == codes


def test_an_address_naming_no_place_offers_nothing_and_is_not_guessed():
    assert find("中山路12号").region is None and find("中山路12号").candidates == ()
    assert find("123 Main Street").region is None


def test_countries_abroad_are_read_from_their_names():
    assert find("1-2-3 Shibuya, Tokyo, Japan").region == "JP"
    assert find("新加坡乌节路1号").region == "SG"
    assert find("Jalan Ampang, Kuala Lumpur, Malaysia").region == "MY"


def test_a_shop_abroad_takes_an_address_without_a_country_as_its_own():
    assert find("12 Jalan Bukit Bintang", home="MY").region == "MY"
    assert find("湖北省宜昌市", home="MY").region == "CN"


def test_shared_location_becomes_a_province_offline():
    assert from_location(30.69, 111.28).region == "CN-42"   # Yichang
    assert from_location(39.90, 116.40).region == "CN-11"   # Beijing
    assert from_location(22.30, 114.17).region == "CN-81"   # Hong Kong
    assert from_location(35.68, 139.69).region is None      # Tokyo: asked
    assert from_location(-33.86, 151.21).region is None


def test_merchant_region_names_and_display_names_in_both_languages():
    assert by_name("湖北") == by_name("Hubei") == by_name("鄂") == ("CN-42",)
    assert by_name("内蒙古") == by_name("Inner Mongolia") == ("CN-15",)
    assert by_name("港澳台") == ("CN-81", "CN-82", "CN-71")
    assert by_name("Japan") == by_name("日本") == ("JP",)
    assert by_name("Atlantis") is None
    assert region_name("CN-42", "zh") == "湖北省" and region_name("CN-42", "en") == "Hubei"
    assert region_name("JP", "zh") == "日本" and region_name("JP", "en") == "Japan"

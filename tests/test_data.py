"""The seed's data files: 附件2 domains with merged cells resolved, and the units."""

from __future__ import annotations

import pytest

from responder.config import shipped_config_dir
from responder.data import DataError, load_domains, load_units, normalise_phone

CFG = shipped_config_dir()


def test_every_domain_resolves_to_its_department():
    """养老服务 → 县民政局, 救灾 → 县应急管理局, 旅游 → 县文旅局 … (blank cells continue the row above)."""
    d = {x.name: x for x in load_domains(CFG / "domains.toml")}
    assert len(d) == 30
    expected = {
        "养老服务": "县民政局", "社会救助": "县民政局", "救灾": "县应急管理局", "安全生产": "县应急管理局",
        "旅游": "县文旅局", "新闻出版版权": "县文旅局", "公共文化服务": "县文旅局", "社会保险": "县人社局",
        "保障性住房": "县住建局", "农村危房改造": "县住建局", "义务教育": "县教体局", "食品药品监管": "县市场监管局",
        "交通运输": "县交通运输局", "广播电视": "县融媒体中心", "扶贫": "县乡村振兴局",
    }
    for name, dep in expected.items():
        assert d[name].lead == dep, name
    assert d["养老服务"].merged and not d["社会救助"].merged
    assert d["公共资源交易"].departments == ("县发改委", "县公共资源交易服务中心")
    assert d["市政服务"].departments == ("县住建局", "县行政执法局")
    assert d["旅游"].mark == "新增" and d["自然资源"].mark == "调整"


def test_blank_first_row_is_an_error(tmp_path):
    """A blank department on the first row has nothing above to continue and is refused."""
    p = tmp_path / "d.toml"
    p.write_text('[[domain]]\nname = "养老服务"\ndepartments = []\n', encoding="utf-8")
    with pytest.raises(DataError, match="nothing above to continue"):
        load_domains(p)


def test_units_cover_departments_townships_and_the_office():
    """Units: 22 lead departments of 附件2, 8 townships, and 县政务公开办, each with three roles."""
    units = load_units(CFG / "units.toml")
    kinds = [u.kind for u in units]
    assert kinds.count("department") == 22 and kinds.count("township") == 8 and kinds.count("office") == 1
    assert all({c.role for c in u.contacts} == {"liaison", "deputy", "principal"} for u in units)


@pytest.mark.parametrize("raw,norm", [("+86 138 0000 0001", "13800000001"), ("0086-13800000001", "13800000001"),
                                      ("8613800000001", "13800000001"), ("13800000001", "13800000001")])
def test_phone_prefixes_are_normalised(raw, norm):
    """+86, 0086 and 86 prefixes, spaces and dashes are accepted and stripped."""
    assert normalise_phone(raw) == norm

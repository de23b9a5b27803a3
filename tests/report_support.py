"""What the weekly log's and the response ledger's tests build their weeks and months from.

The same matters (a fatal fire, a bus accident, a school's fees, a water cut
whose title carries markup, a market) opened the way ingestion and the engine
open them, so both reports are checked against cases made alike.
"""

from __future__ import annotations

import datetime as dt

from responder import engine as eng
from responder.testing.engine import add_item

FIRE = ("石台县某化工厂发生火灾致12人死亡", "7月25日上午，石台县某化工厂车间起火，截至目前已造成12人死亡。")
BUS = ("石台县矶滩乡一客车侧翻致11人死亡", "一辆客车在矶滩乡侧翻，截至目前，事故已造成11人死亡。")
FEES = ("网友反映仁里镇中心小学乱收费", "有家长反映仁里镇中心小学收取补课费，希望有关部门核查。")
WATER = ("横渡镇某小区长期停水<script>alert(1)</script>", "居民反映小区停水三天，无人处理")
MARKET = ("七都镇农贸市场卫生脏乱差", "网友反映七都镇农贸市场垃圾成堆")


def open_case(engine, settings, text: tuple[str, str], when: dt.datetime, *, source: str = "test-opinion",
              role: str = "opinion", link: str | None = None) -> int:
    """Store one item at ``when``, open its case and take the opening step; the one new case's id."""
    add_item(engine, title=text[0], text=text[1], published_at=when, first_seen_at=when, source=source, role=role,
             link=link)
    res = eng.open_cases(engine, settings, when)
    assert len(res.cases_opened) == 1, res
    eng.advance(engine, settings, when)
    return res.cases_opened[0]

"""Undo a join from the case page (issue 14): ``responder unjoin ITEM --reason …`` as a form.

Only the office's operators may take an item out of a case (a liaison may not
move a report away from their unit's clocks, a leader acts on nothing). The
handler calls the same ``engine.unjoin_item`` as the command: the new
case, its clocks from the item's arrival, and the ``item.unjoined`` events on
both cases commit in one transaction, with the person's name as actor; then the
browser is sent to the item's new case.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder.engine import EngineError
from responder.engine import unjoin_item
from responder.models import Case, Item
from responder.web import csrf
from responder.web.app import Console, log, login_required
from responder.web.auth import Person, may_act
from responder.web.views import case_page

MAX_REASON = 500


def _item_case(console: Console, item_id: int) -> tuple[Item | None, Case | None]:
    with Session(console.engine) as s:
        item = s.get(Item, item_id)
        case = s.get(Case, item.case_id) if item is not None and item.case_id is not None else None
        return item, case


@login_required
async def unjoin(request: Request, console: Console, person: Person) -> Response:
    item_id = request.path_params["item_id"]
    item, case = await run_in_threadpool(_item_case, console, item_id)
    form = await request.form()
    if not csrf.valid(request.session, form):
        log.warning("web.refused", user=person.name, action="unjoin", reason="csrf", item_id=item_id)
        return console.error(request, 403, "表单已失效（缺少或错误的 CSRF 令牌），没有做任何更改。请刷新页面后重试。")
    if case is None or not may_act(console.settings, person, case, "unjoin"):
        log.warning("web.refused", user=person.name, action="unjoin", reason="forbidden", item_id=item_id)
        return console.error(request, 403, "只有政务公开办值班员可以拆分归并的条目，没有做任何更改。")
    reason = str(form.get("reason") or "").strip()
    values = {"unjoin": {"item": str(item_id), "reason": reason}}
    try:
        if not reason:
            raise EngineError("请说明拆分理由（为什么这条报道不是本案件的事件）")
        if len(reason) > MAX_REASON:
            raise EngineError(f"理由过长（最多 {MAX_REASON} 个字符）")
        new = await run_in_threadpool(lambda: unjoin_item(console.engine, console.settings, item_id, reason=reason,
                                                          now=console.clock(), actor=person.actor))
    except EngineError as exc:
        return await case_page(request, console, person, case.id, errors={"unjoin": str(exc)}, values=values, status=400)
    request.session["flash"] = f"条目 #{item_id} 已从案件 #{case.id} 拆出，新建案件 #{new.id}（{person.actor}）"
    return RedirectResponse(f"/cases/{new.id}", status_code=303)


def routes() -> list[Route]:
    return [Route("/items/{item_id:int}/unjoin", unjoin, methods=["POST"])]

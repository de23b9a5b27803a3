"""The words of the disclosure rules (条例 第30–36条): obligations, receipt channels, answer types, parties.

Pure data, so that the engine's handler table (through ``disclosure.handlers``),
the console and the command line can name them without loading the service
that runs the clocks.
"""

from __future__ import annotations

REQUEST_OBLIGATION = "request_answer"
INQUIRY_OBLIGATION = "inquiry_answer"
WORKDAY_OBLIGATIONS = (REQUEST_OBLIGATION, INQUIRY_OBLIGATION)
CHANNELS = ("当面", "邮寄", "网上", "传真")
"""第31条: in person, post, internet, the office's fax."""
RECEIPT_RULE = {
    "当面": "当面提交：以提交之日为收到申请之日（第31条第1项）",
    "邮寄": "邮寄：以行政机关签收之日为收到申请之日；平常信函以与申请人确认之日为收到申请之日（第31条第2项）",
    "网上": "互联网渠道：以双方确认之日为收到申请之日（第31条第3项）",
    "传真": "政府信息公开工作机构的传真：以双方确认之日为收到申请之日（第31条第3项）",
}
ANSWER_TYPES: dict[str, str] = {
    # 条例 第36条, in its order
    "already_public": "所申请公开信息已经主动公开的，告知获取该政府信息的方式、途径（第36条第1项）",
    "disclosed": "所申请公开信息可以公开的，向申请人提供该政府信息，或者告知获取方式、途径和时间（第36条第2项）",
    "refused": "决定不予公开的，告知不予公开并说明理由（第36条第3项）",
    "not_exist": "经检索没有所申请公开信息的，告知该政府信息不存在（第36条第4项）",
    "not_ours": "所申请公开信息不属于本机关负责公开的，告知申请人并说明理由；能够确定负责机关的，告知其名称、联系方式（第36条第5项）",
    "repeat": "已就申请人提出的相同申请作出答复、申请人重复申请的，告知不予重复处理（第36条第6项）",
    "special": "所申请公开信息属于工商、不动产登记资料等，法律、行政法规对获取有特别规定的，告知按照有关规定办理（第36条第7项）",
}
ANSWER_LABELS = {"already_public": "已主动公开", "disclosed": "予以公开", "refused": "不予公开", "not_exist": "信息不存在",
                 "not_ours": "非本机关负责公开", "repeat": "不予重复处理", "special": "按特别规定办理"}
PARTIES = ("第三方", "其他机关")
LIVE = ("running", "overdue")


class RequestError(ValueError):
    """An operator request refused, with the reason in Chinese."""


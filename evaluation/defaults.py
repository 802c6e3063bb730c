"""The default indicator framework a programme starts with (version 1); a national coordinator revises it.

Weights follow what facts.md says can be measured honestly. Delivery of what was promised weighs most at
pairing level (project quality 40, mandate 20, delivery 10), then the programme's two policy shares (county
level and below, livelihood: targets at the rule's minimum, 80 % where the rule is silent), then capacity
building. At project level: schedule, budget and supervision (inspections, rectifications) together 60,
results for people (beneficiaries, funds delivered, the recipient's satisfaction) 30, and an expert's
judgement of quality 10.
"""

from typing import Any

DEFAULT_INDICATORS: list[dict[str, Any]] = [
    # project level: 100
    {
        "code": "on_time",
        "name": "按期完工",
        "name_en": "On-time completion",
        "formula": "on_time_completion",
        "floor": 0.5,
        "target": 1.0,
        "weight": 20,
    },
    {
        "code": "budget",
        "name": "预算执行",
        "name_en": "Budget adherence",
        "formula": "budget_adherence",
        "floor": 0.8,
        "target": 1.0,
        "weight": 15,
    },
    {
        "code": "inspections",
        "name": "检查合格率",
        "name_en": "Inspection pass rate",
        "formula": "inspection_pass_rate",
        "floor": 0.5,
        "target": 1.0,
        "weight": 15,
    },
    {
        "code": "rectifications",
        "name": "整改按期完成率",
        "name_en": "Rectifications closed on time",
        "formula": "rectification_closure",
        "floor": 0.5,
        "target": 1.0,
        "weight": 10,
    },
    {
        "code": "beneficiaries",
        "name": "受益人数达成率",
        "name_en": "Beneficiaries reached",
        "formula": "beneficiaries_reached",
        "floor": 0.5,
        "target": 1.0,
        "weight": 10,
    },
    {
        "code": "project_delivery",
        "name": "项目资金到位率",
        "name_en": "Project funds delivered",
        "formula": "project_funds_delivery",
        "floor": 0.5,
        "target": 1.0,
        "weight": 10,
    },
    {
        "code": "satisfaction",
        "name": "受援方满意度",
        "name_en": "Recipient satisfaction",
        "formula": "recipient_satisfaction",
        "curve": "threshold",
        "thresholds": [[1, 0], [2, 40], [3, 60], [4, 80], [4.5, 100]],
        "weight": 10,
    },
    {
        "code": "quality",
        "name": "专家质量评分",
        "name_en": "Expert quality score",
        "formula": "expert",
        "floor": 40,
        "target": 90,
        "weight": 10,
    },
    # pairing level: 100
    {
        "code": "projects",
        "name": "项目综合得分",
        "name_en": "Project scores",
        "formula": "project_scores",
        "floor": 40,
        "target": 90,
        "weight": 40,
    },
    {
        "code": "mandate",
        "name": "援助任务完成率",
        "name_en": "Mandate fulfilment",
        "formula": "mandate_fulfilment",
        "floor": 0.6,
        "target": 1.0,
        "weight": 20,
    },
    {
        "code": "delivery",
        "name": "承诺资金到位率",
        "name_en": "Committed funds delivered",
        "formula": "funds_delivery",
        "floor": 0.5,
        "target": 1.0,
        "weight": 10,
    },
    {
        "code": "county_share",
        "name": "县及县以下资金占比",
        "name_en": "Share to county level and below",
        "formula": "county_share",
        "floor": 0.5,
        "target": 0.8,
        "weight": 10,
    },
    {
        "code": "livelihood_share",
        "name": "民生资金占比",
        "name_en": "Share to livelihood",
        "formula": "livelihood_share",
        "floor": 0.5,
        "target": 0.8,
        "weight": 10,
    },
    {
        "code": "self_sustaining",
        "name": "造血项目资金占比",
        "name_en": "Share to self-sustaining projects",
        "formula": "self_sustaining_share",
        "floor": 0.1,
        "target": 0.4,
        "weight": 5,
    },
    {
        "code": "personnel",
        "name": "干部人才选派达成率",
        "name_en": "People deployed vs quota",
        "formula": "personnel_vs_quota",
        "floor": 0.5,
        "target": 1.0,
        "weight": 5,
    },
]


def default_indicators(min_county_share: Any = None, min_livelihood_share: Any = None) -> list[dict[str, Any]]:
    """The default rows, with the share targets set to the programme's minimums when it has them."""
    from .measures import MEASURES

    rows = []
    for row in DEFAULT_INDICATORS:
        row = {"curve": "linear", "thresholds": [], **row, "level": MEASURES[row["formula"]].level}
        if row["code"] == "county_share" and min_county_share:
            row["target"] = float(min_county_share)
        if row["code"] == "livelihood_share" and min_livelihood_share:
            row["target"] = float(min_livelihood_share)
        if row.get("target") is not None and row.get("floor") is not None and row["floor"] >= row["target"]:
            row["floor"] = round(row["target"] / 2, 4)
        rows.append(row)
    return rows

"""The texts the synthetic projects (`projects.synthetic`) write into free-text fields, in Chinese as stored and in
English as shown on an English page (registered with core/demo_texts.py when the app starts)."""

#: The mark of everything synthetic: the comment of every history event, a flow's note, and the end of a finding,
#: a narrative or a closing note.
MARK = ("合成数据", "synthetic")
FINDINGS = (
    ("混凝土强度检测不达标", "Concrete strength below specification"),
    ("施工资料不全", "Construction records incomplete"),
    ("消防设施未按图施工", "Fire safety not built as designed"),
    ("屋面渗漏", "Roof leaks"),
    ("外墙保温层脱落", "Insulation coming off the outer walls"),
    ("安全防护不到位", "Site safety lacking"),
)
CLOSED = ("已整改", "Put right")
#: The names of the synthetic officer, approver and supervisor of each assisting organization.
ACTOR_NAMES = {
    "officer": ("合成专员", "Synthetic officer"),
    "approver": ("合成审批人", "Synthetic approver"),
    "supervisor": ("合成监督员", "Synthetic supervisor"),
}
DESCRIPTION = (
    "对口支援项目，建设内容、规模和资金来源见可行性研究报告。",
    "A paired-assistance project; its scope, scale and funding are set out in the feasibility study.",
)
#: The synthetic recipient officer of each recipient organization that receives handovers.
RECIPIENT_NAME = ("合成受援方专员", "Synthetic recipient officer")
#: Why a recipient side refused a handover (marked).
REFUSALS = (
    ("资产清单与实物不符", "The asset register does not match what is on site"),
    ("竣工资料未移交", "The completion records were not handed over"),
    ("部分设备尚未安装调试", "Some equipment is not yet installed and tested"),
    ("产权手续未办结", "The title to the assets is not yet settled"),
)
#: The note of a yearly operation report, by operating status (marked).
OPERATION_NOTES = {
    "in_use": ("运行正常", "Running normally"),
    "under_used": ("使用率偏低", "Used less than planned"),
    "idle": ("暂时闲置", "Standing idle for now"),
    "closed": ("已停止运营", "No longer operating"),
    "demolished": ("已拆除", "Demolished"),
}
#: Progress reports are numbered 1 to 3.
REPORTS = 3


def marked(text: tuple[str, str]) -> tuple[str, str]:
    """TEXT with the synthetic mark after it, in both languages."""
    return (f"{text[0]}（{MARK[0]}）", f"{text[1]} ({MARK[1]})")


def narrative(number: int) -> tuple[str, str]:
    return marked((f"第{number}期进度", f"Progress report {number}"))


def description() -> tuple[str, str]:
    return (
        f"{DESCRIPTION[0]}（{MARK[0]}，仅供测试与性能基准）",
        f"{DESCRIPTION[1]} (Synthetic, for tests and benchmarks.)",
    )


def pairs() -> list[tuple[str, str]]:
    return [
        MARK,
        *ACTOR_NAMES.values(),
        RECIPIENT_NAME,
        *(marked(reason) for reason in REFUSALS),
        *(marked(note) for note in OPERATION_NOTES.values()),
        marked(CLOSED),
        description(),
        *(marked(finding) for finding in FINDINGS),
        *(narrative(n) for n in range(1, REPORTS + 1)),
    ]

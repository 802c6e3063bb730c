"""The texts the demo (`pairings.demo`) writes into free-text fields, in Chinese as stored and in English as shown
on an English page (registered with core/demo_texts.py when the app starts)."""

#: A synthetic fiscal revenue's source.
SYNTHETIC_SOURCE = ("合成演示数字", "synthetic demo figure")
#: The reason of Zhuhai → Miansi's mandates, set by hand.
MIANSI_REASON = ("由广东省分配", "allocated by Guangdong")
#: The note of every synthetic flow, deployment and training, and of a pledge made early in the year or left open.
SYNTHETIC_NOTE = ("合成数据", "synthetic")
PLEDGE_NOTE = ("合成认捐", "synthetic pledge")
OPEN_PLEDGE_NOTE = ("尚未转为承诺", "not committed")
#: The comment of the history of a flow backfilled on an ended pairing.
BACKFILLED = ("合成演示数字，结对关系结束后补录。", "Synthetic demo figure, backfilled after the pairing ended.")
#: Training topics, in turn.
TRAINING_TOPICS = (
    ("基层干部培训", "Grassroots cadre training"),
    ("乡村医生培训", "Village doctor training"),
    ("双语教师培训", "Bilingual teacher training"),
    ("农牧业实用技术培训", "Farming and herding techniques"),
    ("职业技能培训", "Vocational skills"),
)
#: Cadre batches are numbered (the 10th batch to Xizang in 2022); doctors' and teachers' batches are years.
CADRE_BATCHES = 10


def cadre_batch(number: int) -> tuple[str, str]:
    return (f"第{number}批", f"batch {number}")


def pairs() -> list[tuple[str, str]]:
    return [
        SYNTHETIC_SOURCE,
        MIANSI_REASON,
        SYNTHETIC_NOTE,
        PLEDGE_NOTE,
        OPEN_PLEDGE_NOTE,
        BACKFILLED,
        *TRAINING_TOPICS,
        *(cadre_batch(n) for n in range(1, CADRE_BATCHES + 1)),
    ]

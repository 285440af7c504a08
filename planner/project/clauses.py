"""Project-review clauses the standards profiles do not carry: synchronisation, hand-over, pooling.

The profile files (``planner/standards/profiles/*.toml``) hold the numbers a district
assessment needs. A project review needs a few more clauses of the same documents: which
of the four synchronisations (同步规划、同步建设、同步验收、同步交付) a city requires, a
hand-over deadline (Jinzhong: 60 days), whether a small project may pool with its
neighbours (Jinzhong), and whether planning review is refused to a project that does not
allocate the facility (Jinzhong). They are kept here, each with its quoted clause, and
looked up along the profile's inheritance chain, so a city file inheriting from
``jinzhong`` gets Jinzhong's clauses. A profile whose chain names none of these cities
states none of them, and the report says so ("not required by the profile"), never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.standards import Profile, Source

#: The four synchronisations, in order.
SYNCS: dict[str, tuple[str, str]] = {
    "planning": ("同步规划", "planned together with the housing"),
    "construction": ("同步建设", "built together with the housing"),
    "acceptance": ("同步验收", "accepted together with the housing"),
    "handover": ("同步交付", "handed over together with the housing"),
}


@dataclass(frozen=True)
class ProjectClauses:
    """A city's project-review clauses.

    Attributes
    ----------
    syncs
        Which of :data:`SYNCS` the city requires, with the clause.
    handover_days
        Days allowed from acceptance to hand-over (``None``: no number stated).
    handover_source
        Clause of the hand-over rule.
    pooling
        Clause allowing small projects to pool with adjacent communities, or ``None``.
    refusal
        Clause refusing planning review to a project without the facility, or ``None``.
    """

    syncs: tuple[str, ...]
    sync_source: Source | None
    handover_days: int | None = None
    handover_source: Source | None = None
    pooling: Source | None = None
    refusal: Source | None = None


_J = "004"
_JINZHONG = ProjectClauses(
    syncs=tuple(SYNCS),
    sync_source=Source(doc=_J, clause="item 5",
                       quote="与住宅同步规划、同步建设、同步验收、同步交付使用"),
    handover_days=60,
    handover_source=Source(doc=_J, clause="item 5(3)",
                           quote="取得…验收合格意见、完成项目竣工验收后…并于60日内完成移交工作"),
    pooling=Source(doc=_J, clause="item 5",
                   quote="居住人口较少的小区,应和相邻小区统筹配建"),
    refusal=Source(doc=_J, clause="item 5(1); item 4",
                   quote="对未按规划要求配建社区居家养老服务设施的新建住宅小区项目,不予规划审核"),
)
_YANGJIANG = ProjectClauses(
    syncs=tuple(SYNCS),
    sync_source=Source(doc="001", clause="table row 4",
                       quote="新建住宅小区与配套养老服务设施同步规划、同步建设、同步验收、同步交付"),
    handover_source=Source(doc="001", clause="二、推进养老服务设施配建供给",
                           quote="设施验收后同步无偿移交乡镇人民政府、街道办事处",
                           note="no number of days stated"),
)
_CHISHUI = ProjectClauses(
    syncs=tuple(SYNCS),
    sync_source=Source(doc="003", clause="(九)",
                       quote="“四同步”（同步规划、同步建设、同步验收、同步交付）"),
)
_CHANGJI = ProjectClauses(
    syncs=("planning", "construction", "acceptance"),
    sync_source=Source(doc="000", clause="二(六)", quote="与住宅同步规划、建设、验收"),
)
_NONE = ProjectClauses(syncs=(), sync_source=None)

#: Clauses by built-in profile name; ``national`` and ``wanzhou`` state none.
CLAUSES: dict[str, ProjectClauses] = {
    "jinzhong": _JINZHONG, "yangjiang": _YANGJIANG, "chishui": _CHISHUI, "changji": _CHANGJI,
    "wanzhou": _NONE, "national": _NONE,
}

#: A project needs a facility of its own from this much required floor area, m². Below it,
#: the project is "small" (居住人口较少): no seed gives a number, so the smallest station any
#: seed states is used (Wanzhou 002 item 13: 200 m² where the elderly are few). An assumption.
SMALL_PROJECT_M2 = 200.0
SMALL_PROJECT_SOURCE = Source(
    doc="002", clause="item 13", quote="老年人口较少的社区不低于200平方米",
    note="assumption: 居住人口较少 has no number in 004; a project whose requirement is below "
         "the smallest station any seed states counts as small",
)
#: Days between the housing's and the facility's acceptance still counted as "together"
#: (同步验收). No seed gives a number; an assumption, stated in every report.
ACCEPTANCE_WINDOW_DAYS = 30


def clauses_for(profile: Profile) -> tuple[ProjectClauses, str]:
    """Return the project clauses of ``profile`` and the profile name they come from.

    The inheritance chain is walked from the profile itself to its root: the first name
    with clauses wins; a chain without any gives no clauses (``"national"``).
    """
    for name in profile.chain:
        if name in CLAUSES:
            return CLAUSES[name], name
    return _NONE, profile.chain[-1] if profile.chain else profile.name


def pooling_clause(profile: Profile) -> Source | None:
    """The clause allowing small projects to pool (统筹配建), or ``None``.

    The profile's own ``allocation_pooling`` wins when it states one (a city file can
    allow or forbid pooling); otherwise the clause table above.
    """
    rule = getattr(profile, "allocation_pooling", None)
    if rule is not None:
        return rule.source if rule.allowed else None
    return clauses_for(profile)[0].pooling

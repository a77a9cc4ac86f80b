"""How a game went: each episode's negotiated outcome against the whole agenda's Pareto
frontier and Nash point (docs/model.md §1), and against the agent playing itself from the
same start (the model's benchmark, ``Game.bench_model``).

An episode's *negotiated outcome* values what the tables agreed with the scenario's weights
(as the metrics do, docs/model.md §9): an agreed issue at its agreed position, any other at
both sides' no-deal values; reneging, threats and unilateral action come after it and are
in the episode's utilities, not here. *Joint gain left on the table* is how much more
``U_US + U_MX`` the best frontier point that gives both sides at least as much would give.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np

from sim.issues import nash_point, pareto_frontier
from sim.record import TableRecord

TABLES = {
    "one": "one table",
    "separate": "separate tables",
    "bundle": "a bundle and separate tables",
}


@dataclass
class Point:
    """One episode's negotiated outcome in the plane (U_US, U_MX), with what it is judged
    against: the frontier's vertices, the disagreement point D and the Nash point."""

    episode: int
    u: tuple[float, float]
    frontier: tuple[np.ndarray, np.ndarray]
    d: tuple[float, float]
    nash: tuple[float, float] | None
    left: float  # joint gain left on the table
    tables: str  # "one" table, "separate" tables, or a "bundle" beside separate tables


def negotiated(tables: list[TableRecord], w_us, w_mx, issues: list[str]) -> Point:
    """The negotiated outcome of one episode's tables (one world), valued over the agenda."""
    n = len(issues)
    v_us, v_mx, d_us, d_mx = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for t in tables:
        k = [issues.index(i) for i in t.issues]
        d_us[k], d_mx[k] = t.d_us, t.d_mx
        v_us[k] = np.where(t.agreed, t.x, t.d_us)
        v_mx[k] = np.where(t.agreed, 1.0 - t.x, t.d_mx)
    # D as the metrics compute it (``metrics.Runs.dot``): the same arithmetic, the same bits
    d = (float(np.dot(w_us, d_us)), float(np.dot(w_mx, d_mx)))
    u = (float(v_us @ w_us), float(v_mx @ w_mx))
    f_us, f_mx, _ = pareto_frontier(w_us, w_mx)
    return Point(
        tables[0].episode, u, (f_us, f_mx), d, nash_point(w_us, w_mx, *d),
        left_on_table(u, f_us, f_mx), layout(tables),
    )  # fmt: skip


def layout(tables: list[TableRecord]) -> str:
    """How an episode's issues sat: "one" table, "separate" tables, or a "bundle"."""
    if len(tables) == 1 and len(tables[0].issues) > 1:
        return "one"
    return "bundle" if any(len(t.issues) > 1 for t in tables) else "separate"


def left_on_table(u, f_us, f_mx) -> float:
    """max(U_US + U_MX) over the frontier points that give each side at least ``u``, less
    ``u``'s sum; 0 when no frontier point does (the outcome is on or beyond the frontier).
    The frontier is piecewise linear, so the maximum is at a vertex or where an edge
    crosses U_US = u_US or U_MX = u_MX."""
    best = -np.inf
    for k in range(len(f_us) - 1):
        a, b = np.array([f_us[k], f_mx[k]]), np.array([f_us[k + 1], f_mx[k + 1]])
        lo, hi = 0.0, 1.0  # the part of the edge a + s (b - a) with both coordinates >= u
        for j in (0, 1):
            slope, start = b[j] - a[j], a[j] - u[j]
            if slope == 0:
                if start < -1e-12:
                    lo, hi = 1.0, 0.0
            elif slope > 0:
                lo = max(lo, -start / slope)
            else:
                hi = min(hi, -start / slope)
        if lo <= hi:
            best = max(best, *(float(np.sum(a + s * (b - a))) for s in (lo, hi)))
    return max(0.0, best - sum(u)) if np.isfinite(best) else 0.0


@dataclass
class Episode:
    """One episode of the game beside the same episode of the agent playing itself."""

    episode: int
    student: Point
    bench: Point
    you: float  # the student's side's utility in the episode (the metrics')
    agent_in_seat: float  # the same side's utility when the agent played it


def episodes(game) -> list[Episode]:
    """The finished episodes of ``game`` (a :class:`sim.play.game.Game`)."""
    key = f"{game.student.lower()}_utility"
    return [
        Episode(e, _point(game, game.model, e), _point(game, game.bench_model, e), mine[key],
                bench[key])
        for e, (mine, bench) in enumerate(zip(game.results, game.bench, strict=False), start=1)
    ]  # fmt: skip


def _point(game, model, e: int) -> Point:
    w_us, w_mx = game.model.us.base_salience[0], game.model.mx.base_salience[0]
    return negotiated([t for t in model.record if t.episode == e], w_us, w_mx, model.issues)


def agent_in_seat(game) -> tuple[float, float]:
    """The benchmark of a game before it is played: the agent in the student's seat, its
    utility per episode and the joint gain it leaves on the table per episode."""
    key = f"{game.student.lower()}_utility"
    left = [_point(game, game.bench_model, e).left for e in range(1, len(game.bench) + 1)]
    return float(np.mean([r[key] for r in game.bench])), float(np.mean(left))


def words(game) -> list[str]:
    """The debrief in plain words, one line per episode and one for the game."""
    you = "the United States" if game.student == "US" else "Mexico"
    lines = []
    done = episodes(game)
    for e in done:
        lines.append(
            f"Episode {e.episode} ({TABLES[e.student.tables]}): you ({you}) got {e.you:.2f}; "
            f"the agent in your seat got {e.agent_in_seat:.2f} against the same agent. "
            f"{_left('You', e.student)} "
            f"{_left('The agent against itself', e.bench)}"
        )
    if done:
        you_total = sum(e.you for e in done)
        agent_total = sum(e.agent_in_seat for e in done)
        left = sum(e.student.left for e in done)
        bench_left = sum(e.bench.left for e in done)
        verdict = "more than" if you_total > agent_total + 5e-3 else (
            "less than" if you_total < agent_total - 5e-3 else "as much as")  # fmt: skip
        lines.append(
            f"Over {len(done)} episode{'s' * (len(done) > 1)} you got {you_total:.2f} in all, "
            f"{verdict} the agent in your seat ({agent_total:.2f}); you left {left:.2f} of "
            f"joint gain on the table, the agent against itself {bench_left:.2f}."
        )
    return lines


def _left(who: str, p: Point) -> str:
    if p.left < 5e-3:
        return f"{who} reached the frontier."
    return f"{who} left {p.left:.2f} of joint gain on the table."


# --- pictures ----------------------------------------------------------------------------
def frontier_png(game) -> bytes:
    """One panel per finished episode: the frontier, D, the Nash point, the student's
    negotiated outcome and the agent's against itself."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.plot import MX, US

    done = episodes(game)
    fig, axes = plt.subplots(1, max(len(done), 1), figsize=(3.2 * max(len(done), 1), 3.3),
                             squeeze=False, sharex=True, sharey=True)  # fmt: skip
    for ax, e in zip(axes[0], done, strict=False):
        draw_point(ax, e.student, "you", US if game.student == "US" else MX, "o")
        ax.plot(*e.bench.u, "^", color="#555555", ms=7, label="agent against itself")
        ax.set_title(f"episode {e.episode}", fontsize=10)
    axes[0, 0].set_ylabel("Mexico's utility (0-1)")
    for ax in axes[0]:
        ax.set_xlabel("US utility (0-1)")
    axes[0, -1].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return _png(fig)


def draw_point(ax, p: Point, label: str, color, marker) -> None:
    """The frontier, D and the Nash point of ``p``, and ``p`` itself."""
    from sim.plot import NASH

    ax.plot(*p.frontier, color="black", lw=1.2, label="Pareto frontier")
    ax.plot(*p.d, "X", color="black", ms=7, label="no deal (D)")
    if p.nash is not None:
        ax.plot(*p.nash, "D", color=NASH, ms=6, label="Nash point")
    ax.plot(*p.u, marker, color=color, ms=7, label=label)
    ax.grid(alpha=0.3)


def dance_png(game) -> bytes:
    """The negotiation dance of every table of the game (``plot.dance``): a column per
    episode, a row per table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.plot import dance

    record = game.model.record
    episodes_ = sorted({t.episode for t in record}) or [1]
    rows = max(sum(t.episode == e for t in record) for e in episodes_) or 1
    cols = len(episodes_)
    fig, axes = plt.subplots(rows, cols, figsize=(max(3.4 * cols, 7.0), 3.3 * rows + 0.6),
                             squeeze=False)  # fmt: skip
    for j, e in enumerate(episodes_):
        tables = [t for t in record if t.episode == e]
        for i in range(rows):
            if i < len(tables):
                title = f"episode {e}, table {i + 1}\n{', '.join(tables[i].issues)}"
                dance(axes[i, j], tables[i], title=title)
                axes[i, j].title.set_fontsize(9)
            else:
                axes[i, j].axis("off")
    for ax in axes.flat:  # one legend for the figure, below the tables
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    # the first table's labels name its trust and round; the legend speaks for every table
    labels = [
        re.sub(r"frontier at trust .*", "frontier at the trust of the moment", x) for x in labels
    ]
    labels = [re.sub(r"agreement \(round \d+\)", "agreement", x) for x in labels]
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.75 / (3.3 * rows + 0.6), 1, 1))
    return _png(fig)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def rows(game) -> list[dict]:
    """Each finished episode as the class store keeps it (``classroom.COLUMNS``, and the
    points the teacher's frontier picture draws)."""
    out = []
    for e, result in zip(episodes(game), game.results, strict=False):
        s, b = e.student, e.bench
        out.append({
            "episode": e.episode,
            "tables": s.tables,
            "you": e.you,
            "agent_in_seat": e.agent_in_seat,
            "us_utility": result["us_utility"],
            "mx_utility": result["mx_utility"],
            "left_on_table": s.left,
            "agent_left_on_table": b.left,
            "agreement_rate": result["agreement_rate"],
            "trust_us": result["trust_us"],
            "trust_mx": result["trust_mx"],
            "threats_executed": result["threats_executed"],
            "reneged": result["reneged"],
            "negotiated": list(s.u),
            "bench": list(b.u),
            "d": list(s.d),
            "nash": None if s.nash is None else [float(v) for v in s.nash],
            "frontier": [list(map(float, s.frontier[0])), list(map(float, s.frontier[1]))],
        })  # fmt: skip
    return out

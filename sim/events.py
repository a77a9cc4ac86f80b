"""Dated scenario events (docs/model.md §8): edits applied at the start of an episode.

Types (``events[i].type``), each with ``episode`` (1-based) and:

- ``unilateral_action``: the US acts alone this episode whatever the security table did
  (e.g. the October 2020 Cienfuegos arrest, the July 2024 Zambada capture).
- ``trust_shock``: ``country``'s trust in its partner is set to ``value``, keeping the
  strength of its evidence (a scandal, a revelation, a summit).
- ``salience``: ``country``'s weight on ``issue`` is set to ``value`` and the other weights
  are rescaled so that all sum to 1 (an election, a crisis that moves an issue up).
- ``reliability``: ``country`` keeps costly commitments with probability ``value`` from
  now on (a new administration, a reform of the implementing agencies).
- ``pressure``: US coercive pressure becomes ``value`` from now on.
- ``disagreement``: ``country``'s no-deal value on ``issue`` becomes ``value`` (a law that
  changes what happens without agreement, such as Mexico's December 2020 curbs on foreign
  agents). Gains are measured over the no-deal utility of the episode.
- ``ratifier_threshold``: ``country``'s ratifier ``ratifier`` asks a margin of ``value``
  over no deal from now on (docs/model.md §4.1).
- ``ratifier_salience``: the weight of ``country``'s ratifier ``ratifier`` on ``issue``
  becomes ``value``; without ``ratifier``, every ratifier's (the public mood).
- ``veto_player``: ``country``'s ratifier ``ratifier`` joins the ratifiers, with a veto
  (a new law or institution that must approve agreements).

Events dated after the last episode are never reached; the runner says so once.
"""

from __future__ import annotations

import numpy as np

from sim import trust
from sim.config import EventType


def set_weight(salience, k, value):
    """Set column ``k`` of (W, n) weights to ``value``, rescaling the others to sum to 1."""
    out = salience.copy()
    rest = 1.0 - out[:, k]
    scale = np.divide(1.0 - value, rest, out=np.zeros_like(rest), where=rest > 0)
    out *= scale[:, None]
    out[:, k] = value
    return out


def apply(model, episode: int) -> bool:
    """Apply this episode's events; return whether a unilateral action is forced."""
    forced = False
    for e in model.cfg.events:
        if e.episode != episode:
            continue
        country = model.countries[e.country.value] if e.country is not None else None
        match e.type:
            case EventType.unilateral_action:
                forced = True
            case EventType.trust_shock:
                country.alpha, country.beta = trust.reset_mean(country.alpha, country.beta, e.value)
            case EventType.salience:
                country.salience = set_weight(
                    country.salience, model.issues.index(e.issue), e.value
                )
            case EventType.reliability:
                country.reliability[:] = e.value
            case EventType.pressure:
                model.pressure[:] = e.value
            case EventType.disagreement:
                country.disagreement[:, model.issues.index(e.issue)] = e.value
            case EventType.ratifier_threshold:
                rats = country.ratifiers
                rats.threshold[:, rats.names.index(e.ratifier)] = e.value
            case EventType.ratifier_salience:
                rats = country.ratifiers
                who = slice(None) if e.ratifier is None else rats.names.index(e.ratifier)
                rats.salience[:, who, model.issues.index(e.issue)] = e.value
            case EventType.veto_player:
                rats = country.ratifiers
                j = rats.names.index(e.ratifier)
                rats.active[:, j] = rats.veto[:, j] = True
    return forced

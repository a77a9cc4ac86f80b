"""A third-party guarantor: monitors compliance and vouches for both sides.

The seeds' proposal of a North American security treaty (Payan & Montes de Oca 2024) puts
Canada at the table as a party both sides trust more than each other. Third parties make
commitments credible in two ways (Walter 1997, "The critical barrier to civil war
settlement"; Keohane 1984, *After Hegemony*): their word stands in for missing trust, and
their monitoring makes reneging costly.

- Vouching ``v`` (``guarantor.vouching``): when bargaining, each side trusts its partner
  ``trust + v (1 - trust)``: the guarantor's assurance closes a share v of the gap to full
  trust, both in the information each side uses and in how it prices costly concessions.
  Trust itself (the belief built from the partner's record) is unchanged.
- Monitoring ``m`` (``guarantor.monitoring``): a side keeps a costly commitment with
  probability ``reliability + m (1 - reliability)``.

With no guarantor (both 0) the model is unchanged.
"""

from __future__ import annotations


def vouched(trust, vouching: float):
    """The trust a side bargains with when a guarantor vouches for its partner."""
    return trust + vouching * (1.0 - trust)


def monitored(reliability, monitoring: float):
    """The reliability of a side whose compliance the guarantor monitors."""
    return reliability + monitoring * (1.0 - reliability)

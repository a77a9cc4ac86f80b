"""Trust as a Beta belief about the partner's reliability (Jøsang & Ismail 2002).

``trust = alpha / (alpha + beta)``: alpha counts kept commitments, beta broken ones. Old
evidence decays by ``forgetting`` each episode, so recent conduct weighs more; the prior has
strength ``trust_prior`` (decades of shared history weigh on each new episode).
"""

from __future__ import annotations

import numpy as np


def prior(trust, strength):
    """Beta parameters with mean ``trust`` and total evidence ``strength``."""
    trust = np.asarray(trust, float)
    return trust * strength, (1.0 - trust) * strength


def mean(alpha, beta):
    total = alpha + beta
    return np.divide(alpha, total, out=np.full_like(total, 0.5), where=total > 0)


def update(alpha, beta, good, bad, forgetting):
    """One episode: discount old evidence, then add this episode's ``good`` and ``bad``."""
    return forgetting * alpha + good, forgetting * beta + bad


def reset_mean(alpha, beta, trust):
    """Move the belief to mean ``trust`` keeping its strength (a dated trust shock)."""
    total = alpha + beta
    return trust * total, (1.0 - trust) * total

"""Pedalboard plugins from their plan form (:mod:`mixassist.planning.plugins` holds what a plan
may use, with each parameter's type and range)."""

from __future__ import annotations

import pedalboard

from ..errors import PlanError
from ..planning.plugins import check_params, registry  # noqa: F401  (re-exported)


def build_plugin(plugin: str, params: dict) -> pedalboard.Plugin:
    """Instantiate ``pedalboard.<plugin>(**params)`` after validating it."""
    params = check_params(plugin, params, where=plugin)
    try:
        return getattr(pedalboard, plugin)(**params)
    except (ValueError, RuntimeError) as exc:  # pedalboard's own checks
        raise PlanError(f"{plugin}: {exc}") from None

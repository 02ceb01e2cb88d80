"""Licence-clean multitrack training data: songs rendered into labelled stems.

:func:`build_dataset` builds a dataset folder (see :mod:`.build`); :func:`compose_song` makes one
procedural song; :mod:`.torch_datasets` reads a built dataset for training. Exports are lazy, so
the readers import without the generator's synthesis dependencies.
"""

from ..utils.lazy import lazy_getattr

_LAZY = {
    "build_dataset": "mixassist.datasets.build",
    "build_song": "mixassist.datasets.build",
    "plan_songs": "mixassist.datasets.build",
    "compose_song": "mixassist.datasets.compose",
    "GROUPS": "mixassist.datasets.instruments",
    "INSTRUMENTS": "mixassist.datasets.instruments",
    "ROLES": "mixassist.datasets.instruments",
    "SOURCES": "mixassist.datasets.licences",
    "check_source": "mixassist.datasets.licences",
}
__all__ = list(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY, globals())

"""Licence-clean multitrack training data: songs rendered into labelled stems.

:func:`build_dataset` builds a dataset folder (see :mod:`.build`); :func:`compose_song` makes one
procedural song; :mod:`.torch_datasets` reads a built dataset for training.
"""

from .build import build_dataset, build_song, plan_songs
from .compose import compose_song
from .instruments import GROUPS, INSTRUMENTS, ROLES
from .licences import SOURCES, check_source

__all__ = ["build_dataset", "build_song", "plan_songs", "compose_song", "GROUPS", "INSTRUMENTS", "ROLES",
           "SOURCES", "check_source"]

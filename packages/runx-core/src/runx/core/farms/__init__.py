"""Farm backends: each turns a Job into a submission (argv lists) and carries it out."""
from __future__ import annotations

from runx.core.config import Settings
from runx.core.farms.base import Farm, Submission
from runx.core.farms.generic import GenericFarm
from runx.core.farms.local import LocalFarm
from runx.core.farms.ngc import NgcFarm

__all__ = ["Farm", "Submission", "make_farm"]


def make_farm(settings: Settings, array: bool = False) -> Farm:
    """The backend for the settings' farm kind (`array`: a Slurm job array per sweep)."""
    kind = settings.farm.kind
    if kind == "local":
        return LocalFarm(settings)
    if kind == "ngc":
        return NgcFarm(settings)
    if kind == "slurm":
        from runx.core.farms.slurm_farm import SlurmFarm

        return SlurmFarm(settings, array=array)
    return GenericFarm(settings)

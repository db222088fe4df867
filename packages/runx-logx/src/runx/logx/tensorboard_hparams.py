"""TensorBoard's HParams dashboard: a run's session start (its hyperparameters) and session end (its status).

The summaries are built from the protos tensorboardX's `summary.hparams` builds its own from (it
always ends a session with success and sets no times). logx writes them into the run's own
directory, and `sumx --to-tensorboard` writes them for runs that have none.

No experiment summary is written: TensorBoard's hparams plugin takes the first one it finds for the
whole logdir and ignores the others, so one run's would stand for every run. Without one the plugin
builds the experiment from every run's session start (each hyperparameter's values and whether they
differ) and every scalar tag of those runs (the metrics). TensorBoard also keeps the first session
start and end a run directory holds and ignores later ones.
"""
from __future__ import annotations

import json
import math
from typing import Any, Dict, Mapping, Optional, Union

from tensorboardX.proto.api_pb2 import Status
from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo
from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata

__all__ = ["SESSION_START_TAG", "SESSION_END_TAG", "PLUGIN_NAME", "STATUSES", "hparam_values", "session_start",
           "session_end"]

PLUGIN_NAME = "hparams"
SESSION_START_TAG = "_hparams_/session_start_info"
SESSION_END_TAG = "_hparams_/session_end_info"
STATUSES = {"success": "STATUS_SUCCESS", "failure": "STATUS_FAILURE"}
"""A session's final status as logx names it -> the name in TensorBoard's Status enum."""

HParamValue = Union[str, float, bool]


def hparam_values(hparams: Mapping[str, Any]) -> Dict[str, HParamValue]:
    """The hyperparameters as the dashboard holds them: finite numbers, text and booleans as they are,
    NaN and infinities as "nan" / "inf" / "-inf", lists and mappings as their JSON text, None left out."""
    values: Dict[str, HParamValue] = {}
    for key, value in hparams.items():
        if value is None:
            continue
        if isinstance(value, (bool, str)):
            values[str(key)] = value
        elif isinstance(value, (int, float)):
            number = float(value)
            values[str(key)] = number if math.isfinite(number) else str(number)
        elif isinstance(value, (list, tuple, dict)):
            values[str(key)] = json.dumps(value, sort_keys=True, default=str)
        else:
            values[str(key)] = str(value)
    return values


def _summary(tag: str, data: Any) -> Any:
    content = HParamsPluginData(version=0, **data).SerializeToString()
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=content))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


def session_start(hparams: Mapping[str, Any], start_time: Optional[float] = None) -> Any:
    """The Summary that starts a run's session: its hyperparameters (through hparam_values) and start time."""
    info = SessionStartInfo(start_time_secs=start_time or 0.0)
    for key, value in hparam_values(hparams).items():
        if isinstance(value, bool):
            info.hparams[key].bool_value = value
        elif isinstance(value, float):
            info.hparams[key].number_value = value
        else:
            info.hparams[key].string_value = value
    return _summary(SESSION_START_TAG, {"session_start_info": info})


def session_end(status: str, end_time: Optional[float] = None) -> Any:
    """The Summary that ends a run's session with `status` ("success" or "failure") at `end_time`."""
    info = SessionEndInfo(status=Status.Value(STATUSES[status]), end_time_secs=end_time or 0.0)
    return _summary(SESSION_END_TAG, {"session_end_info": info})

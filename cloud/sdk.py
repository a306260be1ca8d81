"""The one place the kit reaches past azure-ai-ml's public API, and why.

Everything else goes through ``azure.ai.ml``'s public loaders and ``MLClient``. Where the
SDK has no public route, the route used is here, named, with the reason:

- two loaders ``azure.ai.ml`` does not export (1.35): a monitor schedule's
  (``load_schedule``) and a pipeline-component batch deployment's;
- an entity's own validation (``_validate``), which ``MLClient`` runs before it sends;
- an entity as the YAML-shaped dictionary it would be dumped as (``_to_dict``), and a
  command as the job the SDK submits (``_to_job``): the keys the SDK keeps;
- the storage clients the SDK builds for uploads, which take no ``transport`` from
  ``MLClient``: a rehearsal sends their requests to the stand-in workspace too.

``tests/unit/test_cloud_sdk.py`` fails loudly when an SDK update moves or removes any of
these, so that no check is silently switched off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

UNEXPORTED_LOADERS = ("load_schedule", "load_pipeline_component_batch_deployment")


def loader(name: str) -> Callable[[str | Path], Any]:
    """The azure.ai.ml loader called ``name``: the public one, else one of the two the SDK
    does not export."""
    import azure.ai.ml as sdk

    # The SDK logs a warning for each of its experimental classes a loader touches.
    logging.getLogger("azure.ai.ml._utils._experimental").setLevel(logging.ERROR)
    if hasattr(sdk, name):
        return getattr(sdk, name)
    if name not in UNEXPORTED_LOADERS:
        raise LookupError(f"azure.ai.ml has no loader {name!r}")
    from azure.ai.ml.entities import _load_functions

    return getattr(_load_functions, name)


def entity_errors(entity: Any) -> dict[str, str]:
    """The entity's own validation: key -> message, empty when it passes. Entities without
    one (or with one the SDK never calls, as ``MonitorSchedule``'s) pass."""
    validate = getattr(entity, "_validate", None)
    try:
        result = validate() if validate else None
    except NotImplementedError:
        return {}
    return {} if result is None or result.passed else dict(result.error_messages)


def kept_fields(entity: Any) -> dict:
    """What the SDK keeps of a loaded YAML file, YAML-shaped: a command as the job the SDK
    submits for it."""
    submitted = entity._to_job() if hasattr(entity, "_to_job") else entity
    return submitted._to_dict()


def upload_clients() -> tuple[type, type]:
    """The storage client classes the SDK builds its blob uploads with, as it sees them."""
    from azure.ai.ml._artifacts import _blob_storage_helper as helper

    return helper.BlobServiceClient, helper.ContainerClient


@contextmanager
def blob_uploads_through(transport: Any) -> Iterator[None]:
    """Send the SDK's blob uploads (code folders, models) through ``transport``: the SDK
    builds its storage clients itself, without the ``transport`` given to ``MLClient``."""
    from azure.ai.ml._artifacts import _blob_storage_helper as helper

    def through(client_class: type) -> type:
        class Through(client_class):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, transport=transport, **kwargs)

        return Through

    with (
        patch.object(helper, "BlobServiceClient", through(helper.BlobServiceClient)),
        patch.object(helper, "ContainerClient", through(helper.ContainerClient)),
    ):
        yield

"""An Azure ML workspace kept in memory: what a rehearsal submits to, without a subscription.

The real ``MLClient`` sends its Azure Resource Manager requests here through an azure-core
transport, and the real blob storage client its uploads; nothing leaves the process. The
stand-in answers as the service does where the SDK depends on it: a PUT comes back with
what the service fills in (ids, provisioning state, a container's latest version), a GET
of something nothing created is a 404, and a PUT that names something nothing created (a
model, an environment, an endpoint, a compute) is refused, as Azure refuses it. Every
request is recorded: method, path, api-version and JSON body; an upload by name and size.

The stand-in runs no code: a job is answered as completed, having registered the model its
command names (``--model-name``), so that what a deployer creates after it can find it.
It starts as the README's set-up leaves a workspace: a default blob datastore, the compute
cluster ``cpu-cluster`` and the attached Kubernetes compute ``k8s-cluster``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import urllib3
from requests.adapters import HTTPAdapter

from cloud.assets import COMPUTE
from cloud.validate import REGISTERS_MODEL
from production.deployment import KUBERNETES_COMPUTE

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rehearsal"
WORKSPACE_NAME = "stand-in"
ARM_HOST = "management.azure.com"
STORAGE_ACCOUNT = "standin"
STORAGE_HOST = f"{STORAGE_ACCOUNT}.blob.core.windows.net"
CONTAINER = "azureml-blobstore-standin"
ARM_ID = re.compile(
    r"/subscriptions/[^/\"]+/resourceGroups/[^/\"]+/providers/Microsoft\.MachineLearningServices"
    r"/workspaces/[^/\"]+/([A-Za-z]+/[^/\"]+(?:/versions/[^/\"]+)?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sent:
    """One request the SDK sent, and the stand-in's answer."""

    method: str
    host: str
    path: str  # for ARM, relative to the workspace
    api_version: str | None
    body: Any  # the JSON body of an ARM request; None for uploads
    size: int  # bytes sent
    status: int
    error: str | None = None  # the stand-in's reason for a refusal

    @property
    def is_upload(self) -> bool:
        return self.host == STORAGE_HOST and self.method == "PUT"


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, code: str, message: str) -> Answer:
        return cls(status, {"error": {"code": code, "message": message}})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class StandInWorkspace(HTTPAdapter):
    """A requests adapter that is the workspace: mount it on a session for ``https://``."""

    def __init__(self) -> None:
        super().__init__()
        self.prefix = (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
            f"Microsoft.MachineLearningServices/workspaces/{WORKSPACE_NAME}"
        )
        self.resources: dict[str, dict] = {}  # workspace-relative path, lower case -> body
        self.blobs: dict[str, dict[str, str]] = {}  # blob path -> its metadata
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        self._seed()

    # -- the transport side ------------------------------------------------------------
    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        body = request.body or b""
        if hasattr(body, "read"):  # a streamed upload
            body = body.read()
        body = body.encode() if isinstance(body, str) else bytes(body)
        document = json.loads(body) if url.hostname == ARM_HOST and body else None
        with self._lock:
            if url.hostname == ARM_HOST:
                answer = self._arm(request.method, url, document)
            elif url.hostname == STORAGE_HOST:
                answer = self._storage(request.method, url, request.headers, body)
            else:
                answer = Answer.error(404, "UnknownHost", f"the stand-in is not {url.hostname}")
            self.sent.append(self._record(request.method, url, document, len(body), answer))
        content = json.dumps(answer.body).encode() if answer.body is not None else b""
        headers = {"Content-Length": str(len(content)), "x-ms-request-id": str(uuid.uuid4())}
        if answer.body is not None:
            headers["Content-Type"] = "application/json"
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(content),
            headers={**headers, **answer.headers},
            status=answer.status,
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)

    def _record(self, method: str, url, document: Any, size: int, answer: Answer) -> Sent:
        path = unquote(url.path)
        if url.hostname == ARM_HOST and path.lower().startswith(self.prefix.lower()):
            path = path[len(self.prefix) :] or "/"
        version = parse_qs(url.query).get("api-version", [None])[0]
        error = (
            answer.body.get("error", {}).get("message")
            if answer.status >= 400 and isinstance(answer.body, dict)
            else None
        )
        return Sent(
            method=method,
            host=url.hostname or "",
            path=path,
            api_version=version,
            body=document,
            size=size,
            status=answer.status,
            error=error,
        )

    # -- Azure Resource Manager --------------------------------------------------------
    def _arm(self, method: str, url, document: dict | None) -> Answer:
        path = unquote(url.path)
        if not path.lower().startswith(self.prefix.lower()):
            return Answer.error(404, "ResourceNotFound", f"{path}: not this workspace")
        parts = [part for part in path[len(self.prefix) :].split("/") if part]
        if not parts:
            return Answer(200, self._workspace()) if method == "GET" else Answer(405)
        if method == "POST":
            return self._action("/".join(parts[:-1]), parts[-1])
        key = "/".join(parts).lower()
        if len(parts) % 2:  # collections/name/collections…: an odd count is a collection
            return self._list(key, parse_qs(url.query)) if method == "GET" else Answer(405)
        if method == "GET":
            found = self.resources.get(key)
            return Answer(200, found) if found else self._not_found("/".join(parts))
        if method == "DELETE":
            return Answer(200 if self.resources.pop(key, None) else 204)
        if method == "PUT":
            return self._put(parts, document or {})
        return Answer(405)

    def _not_found(self, what: str) -> Answer:
        return Answer.error(404, "ResourceNotFound", f"{what} was not found in the workspace")

    def _put(self, parts: list[str], body: dict) -> Answer:
        relative = "/".join(parts)
        missing = self._missing_references(parts, body)
        if missing:
            return Answer.error(
                400, "UserError", f"{relative} refers to {missing}, which does not exist"
            )
        key = relative.lower()
        resource = {
            **body,
            "id": f"{self.prefix}/{relative}",
            "name": parts[-1],
            "type": f"Microsoft.MachineLearningServices/workspaces/{'/'.join(parts[:-1:2])}",
            "systemData": {"createdAt": _now(), "createdBy": "stand-in", "lastModifiedAt": _now()},
        }
        resource["properties"] = {**body.get("properties", {}), "provisioningState": "Succeeded"}
        filled_by_service("/".join(parts[::2]).lower(), resource["properties"])
        self.resources[key] = resource
        if len(parts) >= 4 and parts[-2].lower() == "versions":
            self._bump_container(parts[:-2], parts[-1])
        if parts[0].lower() == "jobs":
            self._run(resource)
        return Answer(200, resource)

    def _run(self, job: dict) -> None:
        """The stand-in runs no code: a job is answered as completed, and the model its
        command registers (``--model-name``) is registered, as the job would."""
        job["properties"]["status"] = "Completed"
        for name in sorted(set(REGISTERS_MODEL.findall(json.dumps(job["properties"])))):
            container = self.resources.get(f"models/{name}".lower())
            version = container["properties"]["nextVersion"] if container else "1"
            output = f"azureml://jobs/{job['name']}/outputs/run_output/paths/model"
            model = {"modelType": "mlflow_model", "modelUri": output, "jobName": job["name"]}
            self._put(["models", name, "versions", version], {"properties": model})

    def _missing_references(self, parts: list[str], body: dict) -> str | None:
        """The first thing the body names (or the parent it is created under) that nothing
        created."""
        if len(parts) > 2 and parts[-2].lower() != "versions":
            parent = "/".join(parts[:-2])
            if parent.lower() not in self.resources:
                return parent
        for reference in ARM_ID.findall(json.dumps(body)):
            if reference.lower() not in self.resources:
                return reference
        return None

    def _bump_container(self, container: list[str], version: str) -> None:
        key = "/".join(container).lower()
        existing = self.resources.get(key)
        properties = {"latestVersion": version, "isArchived": False}
        if version.isdigit():
            properties["nextVersion"] = str(int(version) + 1)
        if existing:
            existing["properties"].update(properties)
        else:
            self.resources[key] = {
                "id": f"{self.prefix}/{'/'.join(container)}",
                "name": container[-1],
                "properties": properties,
                "systemData": {"createdAt": _now()},
            }

    def _list(self, key: str, query: dict[str, list[str]]) -> Answer:
        depth = key.count("/") + 1
        children = [
            resource
            for path, resource in self.resources.items()
            if path.startswith(key + "/") and path.count("/") == depth
        ]
        if "hash" in query:  # code is found by its content, whatever name it was given
            children = [
                resource
                for path, resource in self.resources.items()
                if path.startswith("codes/")
                and resource["properties"].get("properties", {}).get("hash_sha256")
                == query["hash"][0]
            ]
        if query.get("isDefault") == ["true"]:
            children = [child for child in children if child["properties"].get("isDefault")]
        if "$orderBy" in query or "$orderby" in query:
            children.sort(key=lambda child: child["systemData"]["createdAt"], reverse=True)
        top = query.get("$top")
        return Answer(200, {"value": children[: int(top[0])] if top else children})

    def _action(self, target: str, action: str) -> Answer:
        if target.lower() not in self.resources and action != "startPendingUpload":
            return self._not_found(target)
        if action == "listSecrets":
            key = base64.b64encode(b"stand-in storage account key").decode()
            return Answer(200, {"secretsType": "AccountKey", "key": key})
        if action == "startPendingUpload":
            blob = f"https://{STORAGE_HOST}/{CONTAINER}/LocalUpload/{uuid.uuid4().hex}"
            credential = {"credentialType": "SAS", "sasUri": f"{blob}?sv=2021-08-06&sig=stand-in"}
            reference = {"blobUri": blob, "credential": credential}
            return Answer(
                200,
                {
                    "blobReferenceForConsumption": reference,
                    "pendingUploadType": "TemporaryBlobReference",
                },
            )
        if action == "listKeys":
            return Answer(200, {"primaryKey": "stand-in-key-1", "secondaryKey": "stand-in-key-2"})
        return Answer.error(400, "UnsupportedAction", f"the stand-in does not do {action}")

    def _workspace(self) -> dict:
        return {
            "id": self.prefix,
            "name": WORKSPACE_NAME,
            "location": "westeurope",
            "kind": "Default",
            "properties": {
                "discoveryUrl": "https://westeurope.api.azureml.ms/discovery",
                "mlFlowTrackingUri": "azureml://westeurope.api.azureml.ms/mlflow/v1.0"
                + self.prefix,
                "workspaceId": str(uuid.UUID(int=1)),
                "provisioningState": "Succeeded",
            },
        }

    def _seed(self) -> None:
        datastore = {
            "datastoreType": "AzureBlob",
            "accountName": STORAGE_ACCOUNT,
            "containerName": CONTAINER,
            "endpoint": "core.windows.net",
            "protocol": "https",
            "isDefault": True,
            "credentials": {"credentialsType": "AccountKey"},
        }
        seeded = {
            "datastores/workspaceblobstore": datastore,
            f"computes/{COMPUTE.removeprefix('azureml:')}": {"computeType": "AmlCompute"},
            f"computes/{KUBERNETES_COMPUTE}": {"computeType": "Kubernetes"},
        }
        for path, properties in seeded.items():
            self._put(path.split("/"), {"properties": properties})

    # -- blob storage ------------------------------------------------------------------
    def _storage(self, method: str, url, headers, body: bytes) -> Answer:
        path = unquote(url.path)
        query = parse_qs(url.query)
        stored = {"ETag": '"0x8D0"', "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT")}
        metadata = {
            k[len("x-ms-meta-") :]: v
            for k, v in headers.items()
            if k.lower().startswith("x-ms-meta-")
        }
        if method == "PUT" and query.get("comp") == ["metadata"]:
            if path not in self.blobs:
                return Answer(404, headers={"x-ms-error-code": "BlobNotFound"})
            self.blobs[path] = metadata
            return Answer(200, headers=stored)
        if method == "PUT":
            self.blobs[path] = metadata
            return Answer(201, headers={**stored, "x-ms-request-server-encrypted": "true"})
        if method in ("HEAD", "GET") and path in self.blobs:
            meta = {f"x-ms-meta-{k}": v for k, v in self.blobs[path].items()}
            return Answer(200, headers={**stored, **meta, "x-ms-blob-type": "BlockBlob"})
        return Answer(404, headers={"x-ms-error-code": "BlobNotFound"})


def filled_by_service(kind: str, properties: dict) -> None:
    """What Azure adds to a resource it was sent, where the SDK reads it back (``kind``:
    the path's collections, as ``onlineendpoints/deployments``)."""
    if kind == "onlineendpoints/deployments":
        properties.setdefault("scaleSettings", {"scaleType": "Default"})
        if properties.get("endpointComputeType") == "Kubernetes":
            properties.setdefault("containerResourceRequirements", {})
        for collection in (properties.get("dataCollector") or {}).get("collections", {}).values():
            collection["dataCollectionMode"] = collection["dataCollectionMode"].capitalize()
    elif kind == "models/versions":
        properties.setdefault("flavors", {})


class StandInCredential:
    """A token shaped as Azure's: the SDK reads its audience and tenant, and checks no
    signature."""

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        expires = int(time.time()) + 3600
        claims = {"aud": "https://ml.azure.com", "tid": SUBSCRIPTION, "oid": SUBSCRIPTION}
        token = ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "none", "typ": "JWT"}, {**claims, "exp": expires})
        )
        return AccessToken(token + ".stand-in", expires)

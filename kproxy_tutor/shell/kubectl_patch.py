"""``kubectl patch`` and ``kubectl edit``: change one object's manifest and apply it, all or nothing.

Both start from the object as ``kubectl get -o yaml`` prints it, change it (a patch, or the
learner's editor), check what the API server would refuse (another name or kind, a new
ClusterIP) and apply the result like ``kubectl apply``: on a copy first, then for real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.shell import manifests_out
from kproxy_tutor.shell.documents import Document, apply_objects, documents
from kproxy_tutor.shell.kubectl_get import KINDS, manifest_of, resource_type
from kproxy_tutor.shell.names import not_found
from kproxy_tutor.shell.output import Note, Output, Verbatim
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.patches import apply_patch
from kproxy_tutor.shell.session import Session

#: What patch and edit can change: the kinds the sandbox takes back whole from a manifest.
EDITABLE = ("services", "deployments", "pods")
#: kubectl edit's header (kubectl prints it in English).
EDIT_HEADER = (
    "# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
    "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
    "# kept, and the error names its line.\n"
    "#\n"
)


def _target(session: Session, invocation: Invocation) -> tuple[str, Any]:
    """The object ``TYPE NAME`` (or ``TYPE/NAME``) names, with a did-you-mean when it does not exist."""
    from kproxy_tutor.shell.kubectl_edit import namespace_of

    word, name = invocation.arg("RESOURCE"), invocation.arg("NAME")
    if "/" in word and not name:
        word, _, name = word.partition("/")
    resource = resource_type(word)
    if resource not in EDITABLE:
        raise SandboxInputError(
            N_(
                "The sandbox can change Services, Deployments and Pods this way, not {kind}: EndpointSlices "
                "follow their Service's selector, Endpoints mirror them, and Nodes stay as the scenario made them."
            ),
            kind=KINDS[resource].kind,
        )
    if not name:
        raise SandboxInputError(
            N_("{command} needs the name of the object: {command} TYPE NAME."),
            command=invocation.command.name,
        )
    namespace = namespace_of(session, invocation)
    store = {
        "services": session.cluster.services,
        "deployments": session.cluster.deployments,
        "pods": session.cluster.pods,
    }[resource]
    obj = store.get((namespace, name))
    if obj is None:
        raise not_found(KINDS[resource].kind, namespace, name, [n for ns, n in store if ns == namespace])
    return resource, obj


def _check_identity(old: dict[str, Any], new: Any, location: str | None = None) -> None:
    """Refuse what the API server refuses: another kind or name, and a Service's ClusterIP changed."""
    if not isinstance(new, dict):
        raise SandboxInputError(
            N_("Expected a Kubernetes object (a mapping with apiVersion and kind)."), location=location
        )
    for path in (("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")):
        before, after = _at(old, path), _at(new, path)
        if path[-1] == "namespace" and after is None:
            continue
        if before != after:
            raise SandboxInputError(
                N_("{field} cannot be changed ({old!r} → {new!r}): create a new object instead."),
                location=location,
                field=".".join(path),
                old=before,
                new=after,
            )
    if old.get("kind") == "Service":
        before, after = _at(old, ("spec", "clusterIP")), _at(new, ("spec", "clusterIP"))
        if before and after != before:
            raise SandboxInputError(
                N_("spec.clusterIP cannot be changed ({old!r} → {new!r}): the field is immutable."),
                location=location,
                old=before,
                new=after,
            )


def _string_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _string_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_string_keys(v) for v in value)
    return True


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _apply(session: Session, resource: str, name: str, document: Document, verb: str) -> list[Output]:
    from kproxy_tutor.shell.kubectl_edit import with_watch

    source = document.location
    _, report = session.edit(lambda cluster: apply_objects(cluster, [document], source))
    return with_watch(session, [Verbatim(f"{KINDS[resource].api_name}/{name} {verb}\n")], report)


def patch(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    resource, obj = _target(session, invocation)
    current = manifest_of(session, resource, obj)
    kind = invocation.text("type", "strategic")
    text = invocation.text("patch")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise SandboxInputError(
                N_("The patch is neither JSON nor YAML: {problem}."),
                problem=getattr(error, "problem", None) or str(error).splitlines()[0],
            ) from None
    if not _string_keys(value):
        raise SandboxInputError(
            N_("The patch is not JSON: every key of an object must be a string in quotes.")
        )
    patched = apply_patch(current, value, kind)
    _check_identity(current, patched)
    if patched == current:
        return [Verbatim(f"{KINDS[resource].api_name}/{obj.name} patched (no change)\n")]
    patched_object = Document(patched, str(patched.get("kind")), "<patch>", 0, 0)
    return _apply(session, resource, obj.name, patched_object, "patched")


def edit(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    if session.editor is None:
        raise SandboxInputError(
            N_(
                "kubectl edit opens an editor and needs a terminal. Here use kubectl patch, or kubectl get "
                "-o yaml, change the file and kubectl apply -f it."
            )
        )
    resource, obj = _target(session, invocation)
    current = manifest_of(session, resource, obj)
    original = manifests_out.dump_yaml([current])
    import tempfile

    handle, name = tempfile.mkstemp(prefix="kubectl-edit-", suffix=".yaml")
    path = Path(name)
    with open(handle, "w", encoding="utf-8") as out:
        out.write(EDIT_HEADER + original)
    session.editor(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        from kproxy_tutor.errors import file_error

        raise file_error(SandboxInputError, str(path), error) from None
    body = "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))
    if not body.strip() or body == original:
        path.unlink(missing_ok=True)
        return [Note(N_("Edit cancelled, no changes made."))]
    try:
        edited = documents(text, str(path))
        if len(edited) != 1:
            raise SandboxInputError(
                N_("kubectl edit changes one object; the file must hold exactly one."),
                location=str(path),
            )
        _check_identity(current, edited[0].data, edited[0].location)
        if edited[0].data == current:
            path.unlink(missing_ok=True)
            return [Note(N_("Edit cancelled, no changes made."))]
        outputs = _apply(session, resource, obj.name, edited[0], "edited")
    except SandboxInputError as error:
        # The error keeps its own message and file:line; the shell adds where the edit is kept.
        error.kept = str(path)  # type: ignore[attr-defined]
        if error.location is None:
            error.location = str(path)
        raise
    path.unlink(missing_ok=True)
    return outputs

"""The files a drop zone refused, as plain records for a page's handler: react-dropzone
hands over the files themselves, which socket.io would send whole (binary attachments of a
file refused for its size, that never reached the handler)."""

from __future__ import annotations

from typing import Any

from reflex.vars import ArrayVar, ObjectVar, Var


def refusal_records(rejected: Var) -> ArrayVar:
    """``[{"name", "codes"}]`` per refused file, built in the browser."""

    def record(entry: ObjectVar) -> dict[str, Any]:
        entry = entry.to(ObjectVar, dict[str, dict[str, Any]])
        file = entry["file"].to(ObjectVar, dict[str, Any])
        errors = entry["errors"].to(ArrayVar, list[dict[str, Any]])
        # the File's own name ("path" is "./year.gpx", or a whole local path in some shells)
        return {"name": file["name"], "codes": errors.map(lambda e: e["code"])}

    return rejected.to(ArrayVar).map(record)


# react-dropzone calls ``onDrop`` (every drop, accepted files or none), then
# ``onDropRejected``, in one go: the first stamps the drop, the second reads the stamp, so the
# page's handlers can tell one drop's refusal (sent by socket) and its upload (sent over HTTP,
# arriving in either order) from another drop's.
_DROP_STAMP = "window.__keiDropStamp"


def new_drop_stamp() -> Var:
    """The time of this drop (ms), remembered for its refusal."""
    return Var(_js_expr=f"({_DROP_STAMP} = Date.now())", _var_type=int)


def this_drop_stamp() -> Var:
    """The stamp ``new_drop_stamp`` gave the drop being handled."""
    return Var(_js_expr=f"({_DROP_STAMP} ?? 0)", _var_type=int)

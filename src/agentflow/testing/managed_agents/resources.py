"""The ``Session`` and ``SessionThread`` resources of the emulator: create, render, update."""

from __future__ import annotations

from typing import Any

from .._wire import Clock, Ids, invalid, not_found
from .session import EmulatedSession

__all__ = ["apply_update", "new_session", "render_session", "render_thread"]


def new_session(ids: Ids, clock: Clock, body: dict[str, Any]) -> tuple[EmulatedSession, list[Any]]:
    """Validate a ``sessions.create`` body; returns the session and its ``initial_events``."""
    agent = body.get("agent")
    if agent is None or body.get("environment_id") is None:
        raise invalid("'agent' and 'environment_id' are required")
    initial = body.get("initial_events") or []
    if not isinstance(initial, list) or len(initial) > 50:
        raise invalid("initial_events must be a list of at most 50 events")
    for i, ev in enumerate(initial):
        if not isinstance(ev, dict) or ev.get("type") not in (
            "user.message",
            "user.define_outcome",
        ):
            raise invalid(f"initial_events[{i}] must be a user.message or user.define_outcome")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or len(metadata) > 16:
        raise invalid("metadata must be an object with at most 16 pairs")
    now = clock.stamp()
    sid = ids.new("sesn")
    session = EmulatedSession(
        id=sid,
        primary_thread_id=ids.new("sthr"),
        resource={
            "id": sid,
            "type": "session",
            "agent": _agent_snapshot(agent),
            "environment_id": str(body["environment_id"]),
            "metadata": {str(k): str(v) for k, v in metadata.items()},
            "resources": list(body.get("resources") or []),
            "outcome_evaluations": [],
            "budget": body.get("budget"),
            "vault_ids": list(body.get("vault_ids") or []),
            "title": body.get("title"),
            "deployment_id": None,
            "created_at": now,
            "updated_at": now,
            "archived_at": None,
        },
    )
    return session, initial


def render_session(session: EmulatedSession) -> dict[str, Any]:
    """The ``Session`` resource as the API returns it."""
    usage = dict(session.usage)
    return {
        **session.resource,
        "status": session.status,
        "stats": {"active_seconds": 0.0, "duration_seconds": 0.0},
        "usage": usage,
    }


def render_thread(session: EmulatedSession, thread_id: str) -> dict[str, Any]:
    """The ``SessionThread`` resource (the primary thread or one announced by an event)."""
    if thread_id == session.primary_thread_id:
        info: dict[str, Any] = {"agent_name": session.resource["agent"]["name"]}
        parent = None
        status = "terminated" if session.terminated else session.status
    elif thread_id in session.threads:
        info = session.threads[thread_id]
        parent = session.primary_thread_id
        status = info.get("status", "running")
    else:
        raise not_found("thread", thread_id)
    created = session.resource["created_at"]
    return {
        "id": thread_id,
        "type": "session_thread",
        "session_id": session.id,
        "parent_thread_id": parent,
        "agent": {
            "type": "agent",
            "id": session.resource["agent"]["id"],
            "name": info.get("agent_name", "agent"),
            "version": 1,
        },
        "status": status if status in ("idle", "running", "rescheduling") else "terminated",
        "stats": None,
        "usage": None,
        "workflow_run_id": info.get("workflow_run_id"),
        "created_at": created,
        "updated_at": created,
        "archived_at": None,
    }


def apply_update(session: EmulatedSession, body: dict[str, Any], now: str) -> dict[str, Any]:
    """Apply a ``sessions.update`` body; returns the changed fields (for ``session.updated``)."""
    changed: dict[str, Any] = {}
    if "metadata" in body:
        meta = dict(session.resource["metadata"])
        for key, value in (body["metadata"] or {}).items():
            if value is None:
                meta.pop(key, None)
            else:
                meta[str(key)] = str(value)
        session.resource["metadata"] = meta
        changed["metadata"] = meta
    if "title" in body:
        session.resource["title"] = body["title"]
        changed["title"] = body["title"]
    if "budget" in body:
        session.resource["budget"] = body["budget"]
        changed["budget"] = body["budget"]
    if "agent" in body:
        if session.status == "running":
            raise invalid("the agent cannot be updated while the session is running")
        agent = dict(session.resource["agent"])
        agent.update(
            {k: v for k, v in (body["agent"] or {}).items() if k in ("tools", "mcp_servers")}
        )
        session.resource["agent"] = agent
        changed["agent"] = agent
    session.resource["updated_at"] = now
    return changed


def _agent_snapshot(agent: Any) -> dict[str, Any]:
    if isinstance(agent, str):
        agent_id, overrides = agent, {}
    elif isinstance(agent, dict) and isinstance(agent.get("id"), str):
        agent_id, overrides = agent["id"], agent
    else:
        raise invalid("'agent' must be an agent id or an object with an 'id'")
    model = overrides.get("model") or "claude-sonnet-4-5"
    return {
        "type": "agent",
        "id": agent_id,
        "name": overrides.get("name") or "emulated-agent",
        "description": None,
        "version": int(overrides.get("version") or 1),
        "model": model if isinstance(model, dict) else {"id": model},
        "system": overrides.get("system"),
        "tools": list(overrides.get("tools") or []),
        "mcp_servers": list(overrides.get("mcp_servers") or []),
        "skills": list(overrides.get("skills") or []),
        "execution_identity": {"type": "service_account"},
        "multiagent": None,
    }

"""What Claude Code 2.1.330 puts on the wire: names, units, scopes and the
attributes of every metric data point and event, in the order and with the
value types of the captured payloads (tests/fixtures/claude-code-2.1.330).

Only the standard library: the planner and ``--dry-run`` need no SDK.
"""

from __future__ import annotations

VERSION = "2.1.330"
SERVICE_NAME = "claude-code"
METER_SCOPE = "com.anthropic.claude_code"
EVENT_SCOPE = "com.anthropic.claude_code.events"

# name -> (unit, description). The first four are in metrics.json; the others
# appear only when that activity happens (shapes as in
# molecule/prometheus/tests/claude_traffic.py, descriptions as documented).
METRICS = {
    "claude_code.session.count": ("", "Count of CLI sessions started"),
    "claude_code.cost.usage": ("USD", "Cost of the Claude Code session"),
    "claude_code.token.usage": ("tokens", "Number of tokens used"),
    "claude_code.active_time.total": ("s", "Total active time in seconds"),
    "claude_code.lines_of_code.count": ("", "Count of lines of code modified"),
    "claude_code.commit.count": ("", "Number of git commits created"),
    "claude_code.pull_request.count": ("", "Number of pull requests created"),
    "claude_code.code_edit_tool.decision": ("", "Count of code editing tool permission decisions"),
}

# How the planner's integer units become the exported number: cost in
# micro-dollars, active time in milliseconds, everything else as counted.
SCALE = {"claude_code.cost.usage": 1_000_000, "claude_code.active_time.total": 1_000}

# Token types: metric attribute `type` -> api_request attribute.
TOKEN_TYPES = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cacheRead": "cache_read_tokens",
    "cacheCreation": "cache_creation_tokens",
}

# Prices in nano-dollars per token (USD per million tokens x 1000), so that a
# request's cost is an exact integer number of micro-dollars after one rounding.
PRICES = {
    "claude-opus-5-5": {"input": 5000, "output": 25000, "cacheRead": 500, "cacheCreation": 6250},
    "claude-sonnet-4-5-20250929": {"input": 3000, "output": 15000, "cacheRead": 300, "cacheCreation": 3750},
    "claude-haiku-4-5-20251001": {"input": 1000, "output": 5000, "cacheRead": 100, "cacheCreation": 1250},
}
DEFAULT_MODELS = tuple(PRICES)
FALLBACK_PRICE = PRICES["claude-sonnet-4-5-20250929"]

# The plugins the real client reports at every start (logs.json).
PLUGINS = (
    ("cc-plugin-agents-md", "da63145d0acbb62d"),
    ("cc-plugin-telemetry", "0452636910a73fd4"),
    ("cc-plugin-privacy", "a2f27f067781660d"),
    ("cc-plugin-plugin-authoring", "559932fe5f722b82"),
)

EVENT_TYPES = (
    "managed_settings_resolved",
    "plugin_loaded",
    "user_prompt",
    "tool_decision",
    "api_request",
    "api_error",
    "tool_result",
    "assistant_response",
)


def cost_micros(model: str, tokens: dict[str, int]) -> int:
    """A request's cost in micro-dollars: integer arithmetic, half-even rounding once."""
    price = PRICES.get(model, FALLBACK_PRICE)
    nano = sum(tokens[t] * price[t] for t in TOKEN_TYPES)
    q, r = divmod(nano, 1000)
    if r > 500 or (r == 500 and q % 2):
        q += 1
    return q


def usd(micros: int) -> float:
    """Micro-dollars as the double the client sends (the nearest double to the decimal)."""
    return micros / 1_000_000


def resource_attributes(user, machine) -> dict:
    """Resource attributes in the fixture's order: OTEL_RESOURCE_ATTRIBUTES first, then the detected ones."""
    return {
        **custom_attributes(user, machine),
        "host.arch": machine.host_arch,
        "os.type": machine.os_type,
        "os.version": machine.os_version,
        "service.name": SERVICE_NAME,
        "service.version": VERSION,
    }


def custom_attributes(user, machine) -> dict:
    """The OTEL_RESOURCE_ATTRIBUTES pairs the client copies onto every data point and event."""
    pairs = {"machine.name": machine.name, "team": user.team}
    if user.email:
        pairs["user.email"] = user.email
    return pairs


def common_attributes(user, machine, session_id: str) -> dict:
    """What every data point and event carries, in the fixture's order."""
    return {
        **custom_attributes(user, machine),
        "user.id": user.id,
        "session.id": session_id,
        "anthropic.provider": "firstParty",
        "anthropic.custom_base_url": True,
        "terminal.type": machine.terminal,
    }


def event_attributes(common: dict, name: str, timestamp: str, sequence: int, specific: dict) -> dict:
    """An event's attributes: common, event.name/timestamp/sequence, then the event's own."""
    return {
        **common,
        "event.name": name,
        "event.timestamp": timestamp,
        "event.sequence": sequence,
        **specific,
    }


def startup_events() -> list[tuple[str, dict]]:
    """managed_settings_resolved and plugin_loaded, as at every start of the client."""
    events: list[tuple[str, dict]] = [
        (
            "managed_settings_resolved",
            {
                "managed_settings.trigger": "startup",
                "managed_settings.sources": [],
                "managed_settings.source_behavior": "first-wins",
                "managed_settings.helper.state": "none",
                "managed_settings.helper.applied": "none",
            },
        )
    ]
    for name, digest in PLUGINS:
        events.append(
            (
                "plugin_loaded",
                {
                    "plugin.name": name,
                    "marketplace.name": "builtin",
                    "plugin.scope": "default-bundle",
                    "enabled_via": "default-enable",
                    "plugin_id_hash": digest,
                    "has_hooks": True,
                    "has_mcp": False,
                    "host_owned_mcp": False,
                    "skill_path_count": 0,
                    "command_path_count": 0,
                    "agent_path_count": 0,
                    "safe_mode": "false",
                },
            )
        )
    return events


def user_prompt(prompt_id: str, length: int, message_uuid: str) -> dict:
    # prompt_length is a string on the wire; the text is redacted by default.
    return {
        "prompt.id": prompt_id,
        "prompt_length": str(length),
        "prompt": "<REDACTED>",
        "prompt_text": "<REDACTED>",
        "message.uuid": message_uuid,
    }


def tool_decision(prompt_id: str, tool: str, tool_use_id: str, decision: str, source: str) -> dict:
    return {
        "prompt.id": prompt_id,
        "decision": decision,
        "source": source,
        "tool_name": tool,
        "tool_use_id": tool_use_id,
        "tool_source": "builtin",
        "permission_mode": "default",
    }


def api_request(prompt_id: str, model: str, tokens: dict[str, int], micros: int, duration: int, ttft: int) -> dict:
    return {
        "prompt.id": prompt_id,
        "model": model,
        "input_tokens": tokens["input"],
        "output_tokens": tokens["output"],
        "cache_read_tokens": tokens["cacheRead"],
        "cache_creation_tokens": tokens["cacheCreation"],
        "cache_creation_5m_tokens": 0,
        "cache_creation_1h_tokens": 0,
        "cost_usd": usd(micros),
        "cost_usd_micros": micros,
        "duration_ms": duration,
        "ttft_ms": ttft,
        "speed": "normal",
        "query_source": "sdk",
        "effort": "medium",
    }


def api_error(prompt_id: str, model: str, error: str, status: str, duration: int, attempt: int) -> dict:
    # status_code is a string, attempt and duration_ms integers (claude_traffic.extra_activity).
    return {
        "prompt.id": prompt_id,
        "model": model,
        "error": error,
        "status_code": status,
        "duration_ms": duration,
        "attempt": attempt,
    }


def tool_result(prompt_id: str, tool: str, tool_use_id: str, success: bool, duration: int, size_in: int, size_out: int):
    # Every value but the ids is a string on the wire.
    return {
        "prompt.id": prompt_id,
        "tool_name": tool,
        "tool_use_id": tool_use_id,
        "success": "true" if success else "false",
        "duration_ms": str(duration),
        "tool_input_size_bytes": str(size_in),
        "tool_result_size_bytes": str(size_out),
    }


def assistant_response(prompt_id: str, length: int, message_uuid: str, model: str) -> dict:
    return {
        "prompt.id": prompt_id,
        "response_length": length,
        "response": "<REDACTED>",
        "message.uuid": message_uuid,
        "model": model,
        "query_source": "sdk",
    }


def request_point(model: str) -> dict:
    """The attributes cost.usage and token.usage add to the common ones (query_source is "main" on metrics)."""
    return {"model": model, "query_source": "main", "effort": "medium"}

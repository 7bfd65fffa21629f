"""Flow validation: every problem is reported, naming the node and the field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from aqualine.telephony.ivr.default_flow import default_flow_data
from aqualine.telephony.ivr.flow import (
    ERROR,
    WARNING,
    FlowInvalid,
    FlowIssue,
    load_flow,
    load_flow_json,
    validate_flow,
)
from aqualine.telephony.ivr.schema import NODE_TYPES, describe_node_types


def minimal(*extra_nodes: dict[str, Any], **top: Any) -> dict[str, Any]:
    """welcome → menu (1 → bye, exhausted → bye) → hangup, plus extra nodes."""
    flow: dict[str, Any] = {
        "version": 1,
        "start": "welcome",
        "nodes": [
            {
                "id": "welcome",
                "type": "play",
                "params": {"prompt": {"tts": "您好"}},
                "edges": {"next": "menu"},
            },
            {
                "id": "menu",
                "type": "menu",
                "label": "主菜单",
                "params": {"prompt": [{"tts": "请按1"}]},
                "edges": {"1": "bye", "exhausted": "bye"},
            },
            {"id": "bye", "type": "hangup"},
            *extra_nodes,
        ],
    }
    flow.update(top)
    return flow


def errors(data: object) -> list[FlowIssue]:
    return [i for i in validate_flow(data) if i.severity == ERROR]


def warnings(data: object) -> list[FlowIssue]:
    return [i for i in validate_flow(data) if i.severity == WARNING]


def node(flow: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in flow["nodes"] if n["id"] == node_id)


def test_a_minimal_flow_is_clean() -> None:
    assert validate_flow(minimal()) == []
    assert list(load_flow(minimal()).nodes) == ["welcome", "menu", "bye"]


def test_an_unknown_node_type_names_the_node() -> None:
    flow = minimal({"id": "fax", "type": "fax_receive"})
    [issue] = errors(flow)
    assert (issue.node, issue.where) == ("fax", "type")
    assert "unknown node type 'fax_receive'" in issue.message
    assert "menu" in issue.message  # lists the known types


def test_an_edge_to_a_missing_node_names_the_node_and_the_edge() -> None:
    flow = minimal()
    node(flow, "menu")["edges"]["2"] = "billing"
    [issue] = errors(flow)
    assert (issue.node, issue.where) == ("menu", "edges.2")
    assert "'billing'" in issue.message
    assert str(issue) == (
        "node 'menu', edges.2: leads to 'billing', which is not a node of this flow"
    )


def test_a_missing_required_edge_is_an_error() -> None:
    flow = minimal()
    del node(flow, "menu")["edges"]["exhausted"]
    [issue] = errors(flow)
    assert (issue.node, issue.where) == ("menu", "edges.exhausted")


def test_an_outcome_the_type_does_not_have_is_an_error() -> None:
    flow = minimal()
    node(flow, "welcome")["edges"]["done"] = "bye"
    [issue] = errors(flow)
    assert (issue.node, issue.where) == ("welcome", "edges.done")
    assert "it has: next" in issue.message


@pytest.mark.parametrize("key", ["12", "A", "", "10"])
def test_a_menu_edge_is_one_key(key: str) -> None:
    flow = minimal()
    node(flow, "menu")["edges"][key] = "bye"
    [issue] = errors(flow)
    assert issue.where == f"edges.{key}"


def test_the_repeat_key_cannot_also_be_an_edge() -> None:
    flow = minimal()
    node(flow, "menu")["edges"]["*"] = "bye"
    [issue] = errors(flow)
    assert "repeat key" in issue.message


def test_a_menu_needs_a_key() -> None:
    flow = minimal()
    node(flow, "menu")["edges"] = {"exhausted": "bye"}
    assert [i.message for i in errors(flow)] == ["a menu needs at least one key edge"]


def test_the_start_node_must_exist() -> None:
    [issue] = errors(minimal(start="begin"))
    assert issue.where == "start"


def test_node_ids_are_unique() -> None:
    flow = minimal({"id": "bye", "type": "hangup"})
    [issue] = errors(flow)
    assert (issue.node, issue.message) == ("bye", "another node has the same id")


@pytest.mark.parametrize(
    ("params", "where", "message"),
    [
        ({"prompt": {"tts": "x"}, "timeout": "5"}, "params.timeout", "expected a number"),
        ({"prompt": {"tts": "x"}, "timeout": 0.5}, "params.timeout", "at least 1"),
        ({"prompt": {"tts": "x"}, "retries": 2.5}, "params.retries", "whole number"),
        ({"prompt": {"tts": "x"}, "retries": True}, "params.retries", "expected a number"),
        ({"prompt": {"tts": "x"}, "repeat_key": "5x"}, "params.repeat_key", "is not one of"),
        ({"prompt": {"tts": "x"}, "tmeout": 5}, "params.tmeout", "unknown parameter"),
        ({}, "params.prompt", "required"),
        ({"prompt": []}, "params.prompt", "at least one prompt"),
        ({"prompt": {"tts": "  "}}, "params.prompt", "non-empty"),
        ({"prompt": {"tts": "x", "file": "y"}}, "params.prompt", "a prompt is"),
        ({"prompt": {"file": "../../etc/passwd"}}, "params.prompt", "not a prompt name"),
        ({"prompt": {"file": "/etc/passwd"}}, "params.prompt", "not a prompt name"),
        ({"prompt": {"tts": "您好{1x}"}}, "params.prompt", "not a variable name"),
        ({"prompt": {"tts": "{caller:upper}"}}, "params.prompt", "unknown format"),
        ({"prompt": {"tts": "a } b"}}, "params.prompt", "a lone '}'"),
    ],
)
def test_parameters_are_checked_by_type(params: dict[str, Any], where: str, message: str) -> None:
    flow = minimal()
    node(flow, "menu")["params"] = params
    [issue] = errors(flow)
    assert (issue.node, issue.where) == ("menu", where)
    assert message in issue.message


def test_collect_needs_min_digits_at_most_max_digits() -> None:
    flow = minimal(
        {
            "id": "ask",
            "type": "collect",
            "params": {"var": "code", "prompt": {"tts": "x"}, "min_digits": 6, "max_digits": 4},
            "edges": {"done": "bye", "exhausted": "bye"},
        }
    )
    node(flow, "menu")["edges"]["2"] = "ask"
    [issue] = errors(flow)
    assert (issue.node, issue.where) == ("ask", "params.min_digits")


def test_an_unreachable_node_is_a_warning_and_the_flow_still_loads() -> None:
    flow = minimal({"id": "orphan", "type": "hangup"})
    [issue] = warnings(flow)
    assert (issue.node, issue.message) == ("orphan", "unreachable from the start node")
    assert load_flow(flow).warnings == (issue,)


def test_a_loop_without_caller_input_is_an_error() -> None:
    flow = minimal(
        {"id": "a", "type": "play", "params": {"prompt": {"tts": "a"}}, "edges": {"next": "b"}},
        {"id": "b", "type": "set", "params": {"values": {"x": "1"}}, "edges": {"next": "a"}},
    )
    node(flow, "menu")["edges"]["2"] = "a"
    [issue] = errors(flow)
    assert issue.node == "a"
    assert issue.message == "a loop that no caller input leaves: a → b → a"


def test_a_node_that_leads_to_itself_is_a_loop() -> None:
    flow = minimal(
        {
            "id": "again",
            "type": "play",
            "params": {"prompt": {"tts": "a"}},
            "edges": {"next": "again"},
        }
    )
    node(flow, "menu")["edges"]["2"] = "again"
    [issue] = errors(flow)
    assert "again → again" in issue.message


def test_a_menu_that_gives_up_into_itself_loops_without_input() -> None:
    flow = minimal()
    node(flow, "menu")["edges"]["exhausted"] = "welcome"
    [issue] = errors(flow)
    assert issue.message == "a loop that no caller input leaves: welcome → menu → welcome"


def test_going_back_to_a_menu_after_a_key_is_no_loop() -> None:
    flow = minimal(
        {
            "id": "info",
            "type": "play",
            "params": {"prompt": {"tts": "i"}},
            "edges": {"next": "menu"},
        }
    )
    node(flow, "menu")["edges"]["4"] = "info"
    assert validate_flow(flow) == []


def test_unknown_variables_in_templates_are_warnings() -> None:
    flow = minimal()
    node(flow, "welcome")["params"]["prompt"] = {"tts": "您的号码是{caller:digits}，{nickname}"}
    [issue] = validate_flow(flow)
    assert issue.severity == WARNING
    assert (issue.node, issue.where) == ("welcome", "params.prompt")
    assert "{nickname}" in issue.message


def test_flow_variables_count_as_set() -> None:
    flow = minimal(variables={"nickname": "用户"})
    node(flow, "welcome")["params"]["prompt"] = {"tts": "{nickname}您好"}
    assert validate_flow(flow) == []


@pytest.mark.parametrize("version", [None, 2, "1", True])
def test_only_version_1_is_read(version: object) -> None:
    flow = minimal(version=version)
    [issue] = errors(flow)
    assert issue.where == "version"
    assert "unsupported version" in issue.message


def test_unknown_fields_are_errors_but_ui_data_is_kept() -> None:
    flow = minimal(ui={"zoom": 1.5}, title="x")
    node(flow, "menu")["ui"] = {"x": 100, "y": 40}
    node(flow, "menu")["color"] = "red"
    assert sorted((i.node, i.where) for i in errors(flow)) == [("", "title"), ("menu", "color")]
    del flow["title"], node(flow, "menu")["color"]
    assert load_flow(flow).data["ui"] == {"zoom": 1.5}


def test_a_time_condition_needs_a_calendar_of_the_flow() -> None:
    flow = default_flow_data()
    node(flow, "hours")["params"]["calendar"] = "weekdays"
    [issue] = errors(flow)
    assert (issue.node, issue.where) == ("hours", "params.calendar")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"timezone": "Mars/Olympus"}, "calendars.hotline.timezone"),
        ({"weekly": {"mon": ["20:00-08:00"]}}, "calendars.hotline.weekly.mon[0]"),
        ({"weekly": {"mon": ["8-20"]}}, "calendars.hotline.weekly.mon[0]"),
        ({"weekly": {"monday": ["08:00-20:00"]}}, "calendars.hotline.weekly.monday"),
        ({"holidays": {"2026-02-30": "春节"}}, "calendars.hotline.holidays.2026-02-30"),
        ({"overrides": {"2026-10-08": "08:00-20:00"}}, "calendars.hotline.overrides.2026-10-08"),
    ],
)
def test_calendar_errors_name_the_field(change: dict[str, Any], where: str) -> None:
    flow = default_flow_data()
    flow["calendars"]["hotline"].update(change)
    [issue] = errors(flow)
    assert issue.where == where


def test_every_error_is_reported_at_once() -> None:
    flow = default_flow_data()
    node(flow, "main_menu")["edges"]["1"] = "nowhere"
    node(flow, "repair")["params"]["max_seconds"] = 1000
    node(flow, "balance")["type"] = "balance_v2"
    with pytest.raises(FlowInvalid) as caught:
        load_flow(flow)
    message = str(caught.value)
    assert "invalid IVR flow (3 errors)" in message
    assert "node 'main_menu', edges.1" in message
    assert "node 'repair', params.max_seconds: at most 300" in message
    assert "node 'balance', type" in message


def test_load_flow_json_reports_bad_json() -> None:
    with pytest.raises(FlowInvalid, match="not JSON"):
        load_flow_json("{nodes: ")


def test_loading_does_not_keep_a_reference_to_the_callers_data() -> None:
    flow_data = minimal()
    flow = load_flow(flow_data)
    node(flow_data, "menu")["label"] = "changed"
    assert flow.data["nodes"][1]["label"] == "主菜单"
    assert flow.nodes["menu"].label == "主菜单"


def test_the_schema_description_covers_every_node_type_and_parameter() -> None:
    described = describe_node_types()
    assert set(described) == set(NODE_TYPES)
    for name, entry in described.items():
        assert entry["doc"], name
        for param_name, param in entry["params"].items():
            assert param["doc"], (name, param_name)
    assert described["menu"]["params"]["timeout"] == {
        "kind": "number",
        "doc": "Seconds to wait for a key after the prompt.",
        "required": False,
        "default": 5.0,
        "minimum": 1,
        "maximum": 60,
    }
    json.dumps(described)  # JSON for the editor


def test_validation_never_raises_on_garbage() -> None:
    garbage: list[object] = [
        None,
        [],
        "flow",
        {"version": 1},
        {"version": 1, "nodes": [1, None, []]},
    ]
    for data in garbage:
        assert errors(copy.deepcopy(data))

#!/usr/bin/env python3
"""sayhi: answers every message with what it received and a greeting (openedge example function)."""


def handler(event, context):
    """event: the payload, JSON-decoded when it parses, bytes otherwise. context: message metadata."""
    if isinstance(event, dict):
        if "err" in event:
            # lets you try the error path: publish {"err": "boom"} on topic t
            raise ValueError(event["err"])
        result = dict(event)
    elif isinstance(event, (bytes, bytearray)):
        result = {"bytes": event.decode("utf-8", errors="replace")}
    else:
        result = {"event": event}
    for key in ("messageQOS", "messageTopic", "messageTimestamp", "functionName", "functionInvokeID"):
        if key in context:
            result[key] = context[key]
    result["say"] = "hello from python"
    return result

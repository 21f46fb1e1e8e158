// sayjs: answers every message with what it received and a greeting (openedge example function).
// event: the payload, JSON-decoded when it parses, a Buffer otherwise. context: message metadata.

exports.handler = (event, context) => {
  let result;
  if (Buffer.isBuffer(event)) {
    result = { bytes: event.toString("utf8") };
  } else if (event !== null && typeof event === "object" && !Array.isArray(event)) {
    // lets you try the error path: publish {"err": "boom"} on topic t
    if ("err" in event) throw new TypeError(String(event.err));
    result = { ...event };
  } else {
    result = { event };
  }
  for (const key of ["messageQOS", "messageTopic", "messageTimestamp", "functionName", "functionInvokeID"]) {
    if (context && context[key] !== undefined) result[key] = context[key];
  }
  result.say = "hello from javascript";
  return result;
};

import { expect, test } from "bun:test";
import { withDeadline } from "../../../src/api/server.ts";
import { silentLogger } from "../../../src/log/index.ts";

const req = () => new Request("http://localhost/v1/system/inspect");

test("a response not produced within server.timeout is a 504 naming the request and the limit", async () => {
  const never = () => new Promise<Response>(() => {});
  const res = await withDeadline(never, 20, silentLogger)(req());
  expect(res.status).toBe(504);
  expect(await res.json()).toEqual({
    error: "GET /v1/system/inspect took longer than server.timeout (20 ms)",
    code: "ERR_TIMEOUT",
  });
});

test("a response in time is passed through; a streamed body may go on past the limit", async () => {
  let push: ((chunk: string) => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (chunk) => controller.enqueue(new TextEncoder().encode(chunk));
    },
  });
  const res = await withDeadline(async () => new Response(body), 20, silentLogger)(req());
  expect(res.status).toBe(200);
  await Bun.sleep(40); // past the deadline: the stream is the caller's to read
  push?.("still streaming");
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toBe("still streaming");
  await reader.cancel();
});

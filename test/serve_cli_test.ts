import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { runScript } from "./run_script.ts";

const serve = (...args: string[]) => runScript("serve.ts", ...args);

Deno.test("deno task serve --help lists every option with its default", async () => {
  const r = await serve("--help");
  assertEquals(r.code, 0);
  for (
    const [flag, fallback] of [
      ["--model FILE", "models/generator.onnx"],
      ["--name NAME", "generator"],
      ["--host HOST", "127.0.0.1"],
      ["--port N", "8000"],
      ["--provider NAME", "auto"],
      ["--max-batch N", "64"],
      ["--max-delay-ms MS", "2"],
      ["--max-request-rows N", "1024"],
    ]
  ) {
    ok(new RegExp(`^  ${flag} .*\\[${fallback}\\]$`, "m").test(r.stdout), flag);
  }
});

Deno.test("deno task serve: bad arguments print one line and exit 2", async () => {
  for (
    const [args, message] of [
      [["--max-batch", "0"], /--max-batch must be a positive integer, got "0"/],
      [["--max-delay-ms", "soon"], /--max-delay-ms must be a number from 0 to 60000/],
      [["--port", "70000"], /--port must be an integer from 0 to 65535, got "70000"/],
      [["--provider", "wasm"], /--provider must be one of auto, cpu, cuda, webgpu, got "wasm"/],
      [["--name", "a/b"], /--name a\/b: use letters/],
      [["--model", "no/such.onnx", "--port", "0"], /cannot read the model file no\/such\.onnx/],
      [["--bogus"], /Unknown option '--bogus'/],
      [
        ["--max-request-rows", "1000000000"],
        /--max-request-rows must be an integer from 1 to 4096/,
      ],
      [["--max-queue-rows", "10"], /--max-queue-rows 10 is below --max-request-rows 1024/],
      [["--request-timeout", "0"], /--request-timeout must be a number from 0.001 to 3600/],
      [["--host", "no such host", "--port", "0"], /cannot listen on no such host port 0: /],
      [["--host", "192.0.2.1", "--port", "0"], /cannot listen on 192\.0\.2\.1 port 0: /],
    ] as const
  ) {
    const r = await serve(...args);
    const lines = r.stderr.trim().split("\n");
    assertEquals([args.join(" "), r.code, lines.length], [args.join(" "), 2, 1]);
    ok(message.test(lines[0]), lines[0]);
  }
});

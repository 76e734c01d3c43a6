import assert from "node:assert/strict";
import { checkedSource } from "./dump_exec.ts";
import { DumpCheck } from "./dumps.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const END = "-- PostgreSQL database dump complete\n--\n\n\\unrestrict tok\n";

async function drain(stream: ReadableStream<Uint8Array>) {
  const r = stream.getReader();
  try {
    while (!(await r.read()).done) { /* the repository reads it all */ }
  } catch { /* a broken stream is reported through done */ }
}

Deno.test("a dump's source resolves only after the exec exited 0 and the check held", async () => {
  const { source, check } = checkedSource(
    ReadableStream.from([enc("CREATE TABLE t();\n"), enc(END)]),
    Promise.resolve({ exitCode: 0, stderr: "" }),
    new DumpCheck("postgres"),
    { what: "db" },
  );
  await drain(source.stream);
  await source.done;
  assert.equal(check.bytes, 18 + END.length);
});

Deno.test("a dump whose server dies midway never resolves: exit code, missing marker or a broken stream reject", async () => {
  const cases: [ReadableStream<Uint8Array>, number, RegExp][] = [
    [ReadableStream.from([enc("COPY t FROM stdin;\n1\n")]), 1, /exited with code 1/],
    [ReadableStream.from([enc("COPY t FROM stdin;\n1\n")]), 0, /completion marker/],
    [
      new ReadableStream({
        start(c) {
          c.enqueue(enc("COPY t FROM stdin;\n"));
          c.error(new Error("connection reset"));
        },
      }),
      0,
      /broke off: connection reset/,
    ],
  ];
  for (const [stream, exitCode, why] of cases) {
    const { source } = checkedSource(
      stream,
      Promise.resolve({ exitCode, stderr: "pg_dump: error: server closed the connection" }),
      new DumpCheck("postgres"),
      { what: "db" },
    );
    await drain(source.stream);
    await assert.rejects(source.done, why);
  }
});

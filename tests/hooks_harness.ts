/**
 * Test harness for tests/hooks_test.ts: runs one hook phase of one discovered unit with the real
 * Engine adapter, under `deno run -P=stowage` (the CLI's own permission set), and prints the
 * PhaseResult and the emitted events as one JSON document.
 *
 * stdin: { phase, unit, config (YAML text), backupId, scope?, outcome?, dryRun?, abortAfterMs? }
 */
import { EngineClient } from "../adapters/docker/engine.ts";
import { hookHost } from "../adapters/hooks/host.ts";
import { parseConfigText } from "../core/config/validate.ts";
import { discoverUnits } from "../core/discovery.ts";
import { MemorySink } from "../core/events.ts";
import { type HookOutcome, type HookPhase, runPhaseHooks } from "../core/hooks/mod.ts";
import type { Scope } from "../core/model.ts";

interface Input {
  phase: HookPhase;
  unit: string;
  config: string;
  backupId: string;
  scope?: Scope;
  outcome?: HookOutcome;
  dryRun?: boolean;
  abortAfterMs?: number;
  /** Abort before the phase starts (post hooks must still run). */
  aborted?: boolean;
}

const input = JSON.parse(await new Response(Deno.stdin.readable).text()) as Input;
using engine = EngineClient.fromConfig(undefined);
const units = discoverUnits(await engine.gatherState());
const unit = units.find((u) => u.name === input.unit);
if (!unit) {
  throw new Error(`harness: no unit '${input.unit}' (have ${units.map((u) => u.name).join(", ")})`);
}
const config = parseConfigText(input.config, "test config");
const sink = new MemorySink();
const controller = new AbortController();
if (input.aborted) controller.abort();
if (input.abortAfterMs !== undefined) setTimeout(() => controller.abort(), input.abortAfterMs);
const result = await runPhaseHooks({
  phase: input.phase,
  unit,
  config,
  backupId: input.backupId,
  scope: input.scope ?? "standard",
  dryRun: input.dryRun ?? false,
  outcome: input.outcome,
  engine,
  signal: controller.signal,
  sink,
  host: hookHost,
});
console.log(JSON.stringify({ result, events: sink.events }));
Deno.exit(0);

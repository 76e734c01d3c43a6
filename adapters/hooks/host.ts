/**
 * The real HookHost (core/hooks/host.ts): hook programs in process groups (process.ts), module
 * imports (modules.ts), the trust rule for hook files (trust.ts), and the file checks of
 * `admin hooks check`.
 */
import type { HookHost } from "../../core/hooks/host.ts";
import { errorMessage } from "../../core/errors.ts";
import { runInGroup } from "./process.ts";
import { inspectHookModule, loadHookModule, modulePath } from "./modules.ts";
import { untrustedReason } from "./trust.ts";

export const hookHost: HookHost = {
  run: runInGroup,
  loadModule: loadHookModule,
  inspectModule: inspectHookModule,
  shellSyntaxError,
  notExecutable,
  untrustedReason,
  modulePath,
};

async function shellSyntaxError(line: string): Promise<string | undefined> {
  const syntax = await new Deno.Command("sh", {
    args: ["-n", "-c", line],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (syntax.code === 0) return undefined;
  const msg = new TextDecoder().decode(syntax.stderr).trim().split("\n").pop() ?? "";
  return msg.replace(/^sh: \d+: /, "");
}

async function notExecutable(path: string): Promise<string | undefined> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    return e instanceof Deno.errors.NotFound
      ? "does not exist"
      : `cannot be read (${errorMessage(e)})`;
  }
  if (!st.isFile) return "is not a file";
  if (st.mode !== null && (st.mode & 0o111) === 0) return "is not executable (chmod +x it)";
  return undefined;
}

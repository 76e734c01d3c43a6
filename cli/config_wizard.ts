/**
 * The repository part of the config wizard (`setup`, `admin config new`): a menu of backends, one
 * line each, then only the questions the chosen one needs (core/config/backends.ts). Secrets are
 * read without echo and never shown; they leave here only as the env file's content.
 */
import { dirname } from "node:path";
import { promptContext } from "./prompt_output.ts";
import type { Runtime } from "./runtime.ts";
import {
  type Answers,
  asked,
  type BackendChoice,
  type BackendId,
  BACKENDS,
  buildBackend,
  checkAnswer,
} from "../core/config/backends.ts";

export interface RepositoryAnswer extends BackendChoice {
  backend: BackendId;
  /** Where the credentials go (0600), beside the config; undefined when there are none. */
  envFile?: string;
}

/** Asks for the backend and what it needs. Only ever called when stdin is a terminal. */
export async function askRepository(
  rt: Pick<Runtime, "env" | "stdoutIsTerminal" | "stderrIsTerminal">,
  opts: { configPath: string; defaultLocal: string },
): Promise<RepositoryAnswer> {
  const { input, password, select } = await import("@inquirer/prompts");
  // Prompts draw on stderr, like the restore wizard: stdout stays for output.
  const ctx = promptContext(rt);
  const id = await select<BackendId>({
    message: "Where should backups go?",
    default: "local",
    pageSize: BACKENDS.length,
    choices: BACKENDS.map((b) => ({ value: b.id, name: b.title })),
  }, ctx);
  const b = BACKENDS.find((x) => x.id === id)!;
  const answers: Answers = {};
  for (const q of b.questions) {
    if (!asked(q, answers)) continue;
    const validate = (v: string) => checkAnswer(q, v);
    const def = q.key === "path" && id === "local" ? opts.defaultLocal : q.default;
    answers[q.key] = q.kind === "secret"
      // No mask: not even the length of a secret reaches the screen.
      ? await password({ message: q.message, validate }, ctx)
      : (await input({ message: q.message, default: def, validate }, ctx)).trim();
  }
  const choice = buildBackend(id, answers);
  const hasEnv = Object.keys(choice.env).length > 0;
  return {
    ...choice,
    backend: id,
    envFile: hasEnv ? `${dirname(opts.configPath)}/repository.env` : undefined,
  };
}

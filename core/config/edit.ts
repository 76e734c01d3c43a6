/** Which editor `admin config edit` runs, and how. Pure. */

/**
 * $VISUAL, then $EDITOR, then `vi`. The value is run through `sh -c` the way git runs it, so it
 * may carry arguments (`code --wait`, `sh -c '...' sh`); the file path is passed as "$@".
 * Running through sh also means any editor works under stowage's permission set, which allows
 * `sh` but cannot list every editor.
 */
export function editorCommand(env: (name: string) => string | undefined, file: string): {
  editor: string;
  program: string;
  args: string[];
} {
  const editor = [env("VISUAL"), env("EDITOR")].find((v) => v !== undefined && v.trim() !== "") ??
    "vi";
  return { editor, program: "sh", args: ["-c", `${editor} "$@"`, editor, file] };
}

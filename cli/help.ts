/**
 * The Examples section every command's `--help` ends with: real command lines, each with what it
 * does as a shell comment, so a line can be copied as it is.
 */

interface HelpTarget {
  addHelpText(position: "after", text: string): unknown;
}

const WIDTH = 80;

/** `[command line, what it does]` pairs as an `Examples:` block, fitted to 80 columns. */
export function examplesText(list: [string, string][]): string {
  const pad = Math.max(...list.map(([c]) => c.length));
  const lines = list.flatMap(([command, why]) => {
    const oneLine = `  ${command.padEnd(pad)}  # ${why}`;
    // Too wide for one line: the comment goes above the command.
    return oneLine.length <= WIDTH ? [oneLine] : [`  # ${why}`, `  ${command}`];
  });
  return `\nExamples:\n${lines.join("\n")}`;
}

export function examples<T extends HelpTarget>(cmd: T, list: [string, string][]): T {
  cmd.addHelpText("after", examplesText(list));
  return cmd;
}

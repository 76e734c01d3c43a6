/**
 * The file reads around recovery bundles: a password file (its text and mode) and the names in
 * the bundle directory. Failures become the `io` errors the commands have always printed.
 */
import { StowageError } from "../../core/errors.ts";
import { ioError } from "../files.ts";

/** The text of a secret file and its mode (null when it could not be read after the text). */
export async function readSecretFile(
  path: string,
  what: string,
): Promise<{ text: string; mode(): Promise<number | null> }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new StowageError(
        "io",
        `Cannot read the ${what} '${path}': no such file`,
        "Write the bundle password on the first line of that file (chmod 600), or name another file.",
      );
    }
    throw ioError(`read the ${what} '${path}'`, e);
  }
  return {
    text,
    mode: async () => {
      try {
        return (await Deno.stat(path)).mode;
      } catch {
        return null;
      }
    },
  };
}

/** The names in `dir`; none when it does not exist. */
export async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw ioError(`list '${dir}'`, e);
  }
  return names;
}

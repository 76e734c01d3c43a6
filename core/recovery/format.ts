/**
 * What a disaster-recovery bundle is on disk. Readers depend on these values: changing the
 * cipher, the key derivation or the iteration count makes old bundles unreadable without
 * `-iter OLD`, so it bumps BUNDLE_FORMAT and README/docs follow.
 */

/** Layout of the archive and its manifest; a reader refuses anything newer than it knows. */
export const BUNDLE_FORMAT = 1;

/**
 * PBKDF2-HMAC-SHA256 rounds. openssl's default is 10000; twenty times that costs about 0.1 s per
 * open here and makes guessing the password twenty times dearer. `openssl enc` does not store the
 * count, so it is printed with every decrypt command.
 */
export const PBKDF2_ITERATIONS = 200_000;

export const CIPHER = "aes-256-cbc";

/** Length of a generated bundle password (alphanumerics: about 285 bits). */
export const GENERATED_PASSWORD_LENGTH = 48;

/** Shorter user-chosen passwords work but are flagged. */
export const WEAK_PASSWORD_LENGTH = 16;

/**
 * The command that opens a bundle with stock openssl (1.1.1 or later). No `-pass`: openssl asks
 * on the terminal, so the password never lands in argv or shell history.
 */
export function opensslDecryptCommand(file: string): string {
  return `openssl enc -d -${CIPHER} -pbkdf2 -iter ${PBKDF2_ITERATIONS} -md sha256 -in ${
    shellQuoteIfNeeded(file)
  } | tar xz`;
}

/** Single-quotes a word for POSIX sh when it holds anything beyond a safe set. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function shellQuoteIfNeeded(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : shellQuote(word);
}

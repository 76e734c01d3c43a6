/**
 * What a disaster-recovery bundle is on disk. Readers depend on these values: changing the
 * cipher, the key derivation or the iteration count makes old bundles unreadable without
 * `-iter OLD`, so README/docs follow and READ_ITERATIONS keeps the old counts readable.
 */

/** Layout of the archive and its manifest; a reader refuses anything newer than it knows. */
export const BUNDLE_FORMAT = 1;

/**
 * PBKDF2-HMAC-SHA256 rounds for new bundles: OWASP's 2023 figure for PBKDF2-HMAC-SHA256 (openssl's
 * default is 10000); about 0.3 s per open here. `openssl enc` does not store the count, so it is
 * printed with every decrypt command, and readers try every count in READ_ITERATIONS.
 */
export const PBKDF2_ITERATIONS = 600_000;

/**
 * Counts a reader tries, newest first: bundles written before the raise used 200000. The first
 * decrypted block tells which one is right (a gzip stream starts 1f 8b 08).
 */
export const READ_ITERATIONS = [PBKDF2_ITERATIONS, 200_000] as const;

/** A bundle password a person chose must be at least this long (generated ones are 48). */
export const MIN_PASSWORD_LENGTH = 12;

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

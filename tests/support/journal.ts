/** Decodes journald native-protocol datagrams (both field forms), for tests. */

export function decodeJournalEntry(bytes: Uint8Array): Record<string, string> {
  const dec = new TextDecoder("utf-8", { fatal: true });
  const out: Record<string, string> = {};
  let i = 0;
  while (i < bytes.length) {
    const nl = bytes.indexOf(0x0a, i);
    if (nl < 0) throw new Error(`entry does not end with a newline at byte ${i}`);
    const line = bytes.subarray(i, nl);
    const eq = line.indexOf(0x3d);
    if (eq >= 0) {
      out[dec.decode(line.subarray(0, eq))] = dec.decode(line.subarray(eq + 1));
      i = nl + 1;
    } else {
      const name = dec.decode(line);
      const len = Number(
        new DataView(bytes.buffer, bytes.byteOffset + nl + 1, 8).getBigUint64(0, true),
      );
      const start = nl + 9;
      if (bytes[start + len] !== 0x0a) {
        throw new Error(`binary field ${name} is not followed by a newline`);
      }
      out[name] = dec.decode(bytes.subarray(start, start + len));
      i = start + len + 1;
    }
  }
  return out;
}

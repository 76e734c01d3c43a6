/** Base64 for binary recipe files (node:buffer is available to Deno without permissions). */
import { Buffer } from "node:buffer";

export const encodeBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

export const decodeBase64 = (text: string): Uint8Array =>
  new Uint8Array(Buffer.from(text, "base64"));

import { textAt } from "./arguments";
import type { FunctionSpec } from "./registry";

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function bytesToBase64(bytes: Uint8Array): string {
  let output = "";
  for (let index = 0; index < bytes.length; index += 3) {
    const a = bytes[index] ?? 0;
    const b = bytes[index + 1];
    const c = bytes[index + 2];
    const triple = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    output += BASE64_ALPHABET.charAt((triple >> 18) & 63) + BASE64_ALPHABET.charAt((triple >> 12) & 63);
    output += b === undefined ? "=" : BASE64_ALPHABET.charAt((triple >> 6) & 63);
    output += c === undefined ? "=" : BASE64_ALPHABET.charAt(triple & 63);
  }
  return output;
}

/** .NET's Encoding.Unicode: UTF-16 little-endian code units, no byte-order mark. */
function utf16LittleEndian(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length * 2);
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    bytes[index * 2] = unit & 0xff;
    bytes[index * 2 + 1] = unit >> 8;
  }
  return bytes;
}

const CONVERT_TO_BASE64: FunctionSpec = {
  name: "ConvertToBase64",
  category: "Encoding",
  parameters: [{ name: "source", description: "String to convert." }],
  summary: 'Encodes the string\'s UTF-16 little-endian bytes (.NET "Unicode") as base64.',
  nulls: "NULL gives NULL.",
  examples: [
    {
      expression: 'ConvertToBase64("Hello world!")',
      output: "SABlAGwAbABvACAAdwBvAHIAbABkACEA",
      origin: "Microsoft",
    },
    { expression: 'ConvertToBase64("é")', output: "6QA=", origin: "ours" },
  ],
  evaluate(args) {
    const source = textAt(args, 0);
    return source === null ? null : bytesToBase64(utf16LittleEndian(source));
  },
};

const CONVERT_TO_UTF8_HEX: FunctionSpec = {
  name: "ConvertToUTF8Hex",
  category: "Encoding",
  parameters: [{ name: "source", description: "String to convert." }],
  summary: "Encodes the string as UTF-8 and writes each byte as two upper-case hexadecimal digits.",
  nulls: "NULL gives NULL.",
  examples: [
    {
      expression: 'ConvertToUTF8Hex("Hello world!")',
      output: "48656C6C6F20776F726C6421",
      origin: "Microsoft",
    },
    { expression: 'ConvertToUTF8Hex("é")', output: "C3A9", origin: "ours" },
  ],
  evaluate(args) {
    const source = textAt(args, 0);
    if (source === null) return null;
    return Array.from(new TextEncoder().encode(source), (byte) =>
      byte.toString(16).toUpperCase().padStart(2, "0"),
    ).join("");
  },
};

/** Characters the documented table maps to more than one letter, or that NFD does not decompose. */
const SPECIAL_DIACRITICS: Record<string, string> = {
  æ: "ae",
  Æ: "AE",
  ǣ: "ae",
  Ǣ: "AE",
  ø: "oe",
  Ø: "OE",
  œ: "oe",
  Œ: "OE",
  ß: "ss",
  ł: "l",
  Ł: "L",
  ı: "i",
};

const NORMALIZE_DIACRITICS: FunctionSpec = {
  name: "NormalizeDiacritics",
  category: "Text",
  parameters: [{ name: "source", description: "Usually a first or last name." }],
  summary:
    "Replaces characters with diacritics by their plain equivalents, per Microsoft's table: ä→a, é→e, ñ→n, æ→ae, ø→oe, œ→oe, ß→ss, ł→l, ı→i, and any letter followed by combining marks (ā̈, e̊̄...) loses the marks.",
  nulls: "NULL gives NULL.",
  examples: [
    {
      expression: "NormalizeDiacritics([givenName])",
      source: { givenName: "Zoë" },
      output: "Zoe",
      origin: "Microsoft",
    },
    {
      expression: 'NormalizeDiacritics("Søren Ærø Straße Łódź")',
      output: "Soeren AEroe Strasse Lodz",
      origin: "ours",
    },
    { expression: 'NormalizeDiacritics("Ḗ ȫ ṻ")', output: "E o u", origin: "ours" },
  ],
  evaluate(args) {
    const source = textAt(args, 0);
    if (source === null) return null;
    let mapped = "";
    for (const char of source.normalize("NFC")) mapped += SPECIAL_DIACRITICS[char] ?? char;
    return mapped
      .normalize("NFD")
      .replace(/\p{Mn}/gu, "")
      .normalize("NFC");
  },
};

export const ENCODING_FUNCTIONS: readonly FunctionSpec[] = [
  CONVERT_TO_BASE64,
  CONVERT_TO_UTF8_HEX,
  NORMALIZE_DIACRITICS,
];

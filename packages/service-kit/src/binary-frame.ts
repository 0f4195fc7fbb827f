/**
 * Binary frames for NATS messages that carry bytes (synthesized audio). NestJS's transport
 * JSON-encodes payloads, turning a Buffer into `{"type":"Buffer","data":[...]}` (2-3.5x larger);
 * a frame keeps the JSON envelope and appends the bytes raw:
 *
 *   "PBF1" | uint32 BE length of the JSON header | JSON header | raw bytes...
 *
 * In the header every Uint8Array is replaced by `{"$bin":[offset,length]}` into the raw bytes.
 */
const MAGIC = [0x50, 0x42, 0x46, 0x31]; // "PBF1"
const MAX_DEPTH = 8;

export function containsBinary(value: unknown, depth = 0): boolean {
  if (value instanceof Uint8Array) return true;
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return false;
  return Object.values(value).some((v) => containsBinary(v, depth + 1));
}

export function isBinaryFrame(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b);
}

export function encodeBinaryFrame(value: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const replace = (v: unknown, depth: number): unknown => {
    if (v instanceof Uint8Array) {
      blobs.push(v);
      const ref = { $bin: [offset, v.byteLength] };
      offset += v.byteLength;
      return ref;
    }
    if (depth > MAX_DEPTH || typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map((item) => replace(item, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, replace(item, depth + 1)]));
  };
  const header = new TextEncoder().encode(JSON.stringify(replace(value, 0)));
  const frame = new Uint8Array(8 + header.byteLength + offset);
  frame.set(MAGIC, 0);
  new DataView(frame.buffer).setUint32(4, header.byteLength);
  frame.set(header, 8);
  let at = 8 + header.byteLength;
  for (const blob of blobs) {
    frame.set(blob, at);
    at += blob.byteLength;
  }
  return frame;
}

export function decodeBinaryFrame(frame: Uint8Array): unknown {
  if (!isBinaryFrame(frame)) throw new Error('not a binary frame');
  const headerLength = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(4);
  const body = 8 + headerLength;
  if (body > frame.byteLength) throw new Error('truncated binary frame');
  const header = JSON.parse(new TextDecoder().decode(frame.subarray(8, body))) as unknown;
  const restore = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map(restore);
    const ref = (v as { $bin?: unknown }).$bin;
    if (Array.isArray(ref) && ref.length === 2 && Object.keys(v).length === 1) {
      const [start, length] = ref as [number, number];
      if (body + start + length > frame.byteLength) throw new Error('binary frame reference out of range');
      return frame.subarray(body + start, body + start + length);
    }
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, restore(item)]));
  };
  return restore(header);
}

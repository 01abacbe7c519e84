/**
 * The long connection's frame: protobuf (proto2) `pbbp2.Frame` (reference §5), coded by hand.
 * Frame{1 SeqID uint64, 2 LogID uint64, 3 service int32, 4 method int32, 5 headers Header[],
 * 6 payload_encoding, 7 payload_type, 8 payload bytes, 9 LogIDNew}; Header{1 key, 2 value}.
 */
export interface Frame {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: { key: string; value: string }[];
  payload?: Buffer;
}

function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

const field = (no: number, wire: number) => varint((no << 3) | wire);
const bytesField = (no: number, b: Buffer) => Buffer.concat([field(no, 2), varint(b.length), b]);

export function encodeFrame(f: Frame): Buffer {
  const parts = [
    field(1, 0),
    varint(f.SeqID),
    field(2, 0),
    varint(f.LogID),
    field(3, 0),
    varint(f.service),
    field(4, 0),
    varint(f.method),
  ];
  for (const h of f.headers) {
    parts.push(
      bytesField(5, Buffer.concat([bytesField(1, Buffer.from(h.key)), bytesField(2, Buffer.from(h.value))])),
    );
  }
  if (f.payload) parts.push(bytesField(8, f.payload));
  return Buffer.concat(parts);
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): bigint {
    let shift = 0n;
    let out = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      out |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return out;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number) {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

export function decodeFrame(buf: Buffer): Frame {
  const r = new Reader(buf);
  const f: Frame = { SeqID: 0, LogID: 0, service: 0, method: 0, headers: [] };
  while (r.pos < buf.length) {
    const tag = Number(r.varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (no === 1) f.SeqID = Number(r.varint());
    else if (no === 2) f.LogID = Number(r.varint());
    else if (no === 3) f.service = Number(BigInt.asIntN(32, r.varint()));
    else if (no === 4) f.method = Number(BigInt.asIntN(32, r.varint()));
    else if (no === 5) {
      const h = new Reader(r.bytes());
      const header = { key: '', value: '' };
      while (h.pos < h.buf.length) {
        const t = Number(h.varint());
        if (t >>> 3 === 1) header.key = h.bytes().toString('utf8');
        else if (t >>> 3 === 2) header.value = h.bytes().toString('utf8');
        else h.skip(t & 7);
      }
      f.headers.push(header);
    } else if (no === 8) f.payload = Buffer.from(r.bytes());
    else r.skip(wire);
  }
  return f;
}

export const header = (f: Frame, key: string) => f.headers.find((h) => h.key === key)?.value;

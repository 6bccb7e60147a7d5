#!/usr/bin/env python3
"""Writes the seed corpus for fuzz-frame-decoder: valid msgr2.1 crc-mode byte streams
(banner, handshake frames, messages), so the fuzzer starts from inputs that reach deep."""
import os, struct, sys

def crc32c(data, seed):
    crc = seed
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc

def preamble(tag, lengths, aligns):
    lengths = list(lengths) + [0] * (4 - len(lengths))
    aligns = list(aligns) + [0] * (4 - len(aligns))
    count = 4
    while count > 1 and lengths[count - 1] == 0:
        count -= 1
    body = struct.pack("<BB", tag, count)
    for l, a in zip(lengths, aligns):
        body += struct.pack("<IH", l, a)
    body += b"\0\0"
    return body + struct.pack("<I", crc32c(body, 0))

def control(tag, payload):
    out = preamble(tag, [len(payload)], [8]) + payload
    if payload:
        out += struct.pack("<I", crc32c(payload, 0xFFFFFFFF))
    return out

def message(seq, front, data):
    header = struct.pack("<QQHHHIHQBHH", seq, seq, 42, 127, 1, 0, 0, 0, 0, 1, 0)
    out = preamble(17, [len(header), len(front), 0, len(data)], [8, 8, 8, 4096])
    out += header + struct.pack("<I", crc32c(header, 0xFFFFFFFF)) + front + data
    out += b"\x0e" + struct.pack("<III", crc32c(front, 0xFFFFFFFF), 0xFFFFFFFF if data else 0,
                                  crc32c(data, 0xFFFFFFFF) if data else 0)
    return out

def addr(port, nonce):
    inner = struct.pack("<III", 2, nonce, 16) + struct.pack("<H", 2) + struct.pack(">H", port)
    inner += bytes([127, 0, 0, 1]) + bytes(8)
    return b"\x01" + struct.pack("<BBI", 1, 1, len(inner)) + inner

banner = b"ceph v2\n" + struct.pack("<HQQ", 16, 1, 1)
hello = control(1, b"\x08" + addr(6800, 0))
auth = control(2, struct.pack("<II", 1, 1) + struct.pack("<I", 1) + struct.pack("<I", 0))
ident = control(8, b"\x02" + struct.pack("<I", 1) + addr(0, 7) + addr(6800, 0)
                + struct.pack("<qQQQQQ", 0, 1, 1 << 59, 1 << 59, 0, 12345))
reconnect = control(11, b"\x02" + struct.pack("<I", 1) + addr(0, 7) + struct.pack("<QQQQQ", 1, 2, 3, 4, 5))
seeds = {
    "banner": banner,
    "hello": banner + hello,
    "auth": banner + hello + auth,
    "ident": banner + hello + auth + control(7, bytes(32)) + ident,
    "reconnect": banner + hello + auth + control(7, bytes(32)) + reconnect,
    "messages": banner + message(1, b"abc", b"") + message(2, b"x", bytes(100)) + control(20, struct.pack("<Q", 2)),
    "keepalive": banner + control(18, struct.pack("<II", 1, 2)) + control(19, struct.pack("<II", 1, 2)),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "frame-decoder")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {out}")

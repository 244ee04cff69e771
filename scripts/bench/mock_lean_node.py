#!/usr/bin/env python3
"""Mock lean node for the benchmarks: serves a consistent lstar bundle.

  GET <any prefix>/lean/v0/fork_choice           fork_choice.body, finalized root patched
  GET <any prefix>/lean/v0/checkpoints/justified checkpoints_justified.body
  GET <any prefix>/lean/v0/blocks/finalized      blocks_finalized.ssz, state_root patched
  GET <any prefix>/lean/v0/states/finalized      states_finalized.ssz (or a grown copy)
  GET <any prefix>/lean/v0/health                health.body

The fixtures are the live captures in tests/fixtures/lean-api/live/ (--fixtures or
$LEAN_FIXTURES to use others). HTTP/1.1 with keep-alive, one thread per connection
(ThreadingHTTPServer).

What is served is always a bundle leanpoint verifies (src/lean/lstar/): the block's
state_root is hash_tree_root(state), the block's root is the fork choice's
`finalized.root` (every occurrence of the fixture's finalized root in the fork choice
is replaced), and the state's latest_block_header, with state_root set to
hash_tree_root(state), hashes to that root. The roots are computed here (SSZ
merkleization with SHA-256, zero-hash padding to each list's limit, lengths mixed in)
once at start-up; nothing is hashed while serving.

--state-bytes N grows the fixture state to exactly N bytes and keeps it a valid lstar
`State`, as `big_state` in tests/common/inbound.rs does: historical_block_hashes is
filled with pseudo-random roots up to its limit (2^18 roots less one, 8 MiB), the
justified slots, validators and justification roots are the fixture's, and the rest of
the size goes into the last field, the justifications_validators bitlist
(pseudo-random bytes, then 0x01 as the delimiter byte). The fixed part (slots,
checkpoints, header) is the fixture's: finalized slot 18. Hashing 16 MiB takes a few
seconds of pure Python, before the port is bound.

--advance-every N makes the finalized checkpoint change: after every N counted
`/lean/v0/fork_choice` requests the node moves to the next of VARIANTS precomputed
bundles (cycling), as when finality advances between poll rounds (N = the number of
upstreams leanpoint lists for this node: one new checkpoint per round). A variant
differs from the base state in one byte of config.genesis_time, so its state root,
block root and the fork choice's finalized root all change; the slot stays 18. The
block and state served are those of the fork choice served last. leanpoint polls only
the fork choice and the justified checkpoint every round, and fetches the block and
the state once per new checkpoint, so counting fork choices (not states) is what ties
the advance to rounds. A request with the query `?probe` is answered from the current
bundle without being counted.

--self-test checks the Python merkleization against the live fixture's known roots
(state 0xc4d21c0c..., block 0x9f657880...), then builds the bundles for --state-bytes
(16 MiB if not given) and re-checks each one from its served bytes, and exits.

--port 0 picks a free port; --port-file writes the bound port there once listening.
"""
import argparse
import hashlib
import os
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXED_PART = 228
OFFSETS_AT = 208
GENESIS_TIME_BYTE = 1  # a byte of config.genesis_time (bytes 0..8) changed per variant
VARIANTS = 8

# lstar limits (src/lean/lstar/state.rs, block.rs).
HISTORICAL_ROOTS_LIMIT = 1 << 18
VALIDATOR_REGISTRY_LIMIT = 1 << 12
JUSTIFICATION_VALIDATORS_LIMIT = HISTORICAL_ROOTS_LIMIT * VALIDATOR_REGISTRY_LIMIT
VALIDATOR_SIZE = 112
ATTESTATIONS_LIMIT = 1 << 12
AGGREGATION_BITS_LIMIT = 1 << 12
BLOCK_FIXED = 84
# Where the block's state_root sits in the Block message: slot, proposer_index, parent.
BLOCK_STATE_ROOT_AT = 8 + 8 + 32

FIXTURE_STATE_ROOT = "0xc4d21c0ccbf6e382ed1ca852d0b0c33ff88768ba63db133b90b604d5c0f6eb01"
FIXTURE_BLOCK_ROOT = "0x9f657880d54001cdfcd3cab094c0324a6d6d6e95f14a5426acb1098eeed0a8bf"

sha256 = hashlib.sha256


def hash_pair(a: bytes, b: bytes) -> bytes:
    return sha256(a + b).digest()


ZERO_HASHES = [bytes(32)]
for _ in range(40):
    ZERO_HASHES.append(hash_pair(ZERO_HASHES[-1], ZERO_HASHES[-1]))


def depth_for(n: int) -> int:
    """The smallest depth whose tree holds n leaves: ceil(log2(n)), 0 for n <= 1."""
    return max(n - 1, 0).bit_length()


def merkleize(data: bytes, depth: int) -> bytes:
    """Root of the tree of `depth` levels over `data` packed into 32-byte chunks (the last
    one zero padded), zero chunks after them up to 2^depth leaves. A level is hashed
    whole; the missing right half of each level is the zero hash of that level."""
    if len(data) % 32:
        data = bytes(data) + bytes(32 - len(data) % 32)
    n = len(data) // 32
    if n > 1 << depth:
        raise ValueError(f"{n} chunks over the limit 2^{depth}")
    if n == 0:
        return ZERO_HASHES[depth]
    level = bytes(data)
    for d in range(depth):
        if (len(level) // 32) % 2:
            level += ZERO_HASHES[d]
        mv = memoryview(level)
        level = b"".join([sha256(mv[i : i + 64]).digest() for i in range(0, len(level), 64)])
    return level


def u64_chunk(v: int) -> bytes:
    return struct.pack("<Q", v) + bytes(24)


def mix_in_length(root: bytes, length: int) -> bytes:
    return hash_pair(root, u64_chunk(length))


def roots_list_root(data: bytes, limit: int) -> bytes:
    """List[Bytes32, limit]."""
    if len(data) % 32:
        raise ValueError("a list of roots is a multiple of 32 bytes")
    return mix_in_length(merkleize(data, depth_for(limit)), len(data) // 32)


def bitlist_root(data: bytes, limit_bits: int) -> bytes:
    """Bitlist[limit_bits]: the delimiter bit (the top bit of the last byte) removed,
    the bits packed into chunks, the number of bits mixed in."""
    if not data or data[-1] == 0:
        raise ValueError("a bitlist ends with a nonzero byte")
    last = data[-1]
    top = last.bit_length() - 1
    bits = (len(data) - 1) * 8 + top
    if bits > limit_bits:
        raise ValueError(f"bitlist of {bits} bits over its limit {limit_bits}")
    packed = bytes(data[:-1]) + (bytes([last & ~(1 << top)]) if top else b"")
    return mix_in_length(merkleize(packed, depth_for((limit_bits + 255) // 256)), bits)


def validator_root(v: bytes) -> bytes:
    """Validator { attestation_public_key: Bytes52, proposal_public_key: Bytes52, index }."""
    keys = hash_pair(merkleize(v[0:52], 1), merkleize(v[52:104], 1))
    return hash_pair(keys, hash_pair(v[104:112] + bytes(24), ZERO_HASHES[0]))


def validators_root(data: bytes) -> bytes:
    data = bytes(data)
    if len(data) % VALIDATOR_SIZE:
        raise ValueError("validators are 112 bytes each")
    roots = b"".join(
        validator_root(data[i : i + VALIDATOR_SIZE]) for i in range(0, len(data), VALIDATOR_SIZE)
    )
    count = len(data) // VALIDATOR_SIZE
    return mix_in_length(merkleize(roots, depth_for(VALIDATOR_REGISTRY_LIMIT)), count)


def checkpoint_root(root: bytes, slot: int) -> bytes:
    return hash_pair(root, u64_chunk(slot))


def header_root(slot: int, proposer: int, parent: bytes, state_root: bytes, body_root: bytes) -> bytes:
    return merkleize(u64_chunk(slot) + u64_chunk(proposer) + parent + state_root + body_root, 3)


def state_offsets(state: bytes) -> list:
    offsets = list(struct.unpack_from("<5I", state, OFFSETS_AT))
    if offsets[0] != FIXED_PART or offsets != sorted(offsets) or offsets[4] >= len(state):
        raise ValueError(f"state offsets {offsets} do not parse (length {len(state)})")
    return offsets


def state_field_roots(state: bytes) -> list:
    """The roots of the five variable fields (the expensive part of the state root)."""
    o = state_offsets(state) + [len(state)]
    mv = memoryview(state)
    return [
        roots_list_root(mv[o[0] : o[1]], HISTORICAL_ROOTS_LIMIT),
        bitlist_root(mv[o[1] : o[2]], HISTORICAL_ROOTS_LIMIT),
        validators_root(mv[o[2] : o[3]]),
        roots_list_root(mv[o[3] : o[4]], HISTORICAL_ROOTS_LIMIT),
        bitlist_root(mv[o[4] : o[5]], JUSTIFICATION_VALIDATORS_LIMIT),
    ]


def state_root_from(fixed: bytes, field_roots: list) -> bytes:
    """hash_tree_root(State) from its 228-byte fixed part and its field roots."""
    genesis_time, slot = struct.unpack_from("<QQ", fixed, 0)
    header = header_root(
        *struct.unpack_from("<QQ", fixed, 16), fixed[32:64], fixed[64:96], fixed[96:128]
    )
    justified = checkpoint_root(fixed[128:160], struct.unpack_from("<Q", fixed, 160)[0])
    finalized = checkpoint_root(fixed[168:200], struct.unpack_from("<Q", fixed, 200)[0])
    chunks = [u64_chunk(genesis_time), u64_chunk(slot), header, justified, finalized] + field_roots
    return merkleize(b"".join(chunks), 4)


def state_root(state: bytes) -> bytes:
    return state_root_from(state[:FIXED_PART], state_field_roots(state))


def header_block_root(fixed: bytes, state_root_: bytes) -> bytes:
    """The root of the state's latest_block_header with its state_root filled in (when
    zero, as in a block's post-state): the block's root."""
    slot, proposer = struct.unpack_from("<QQ", fixed, 16)
    hdr_state_root = fixed[64:96]
    if hdr_state_root == bytes(32):
        hdr_state_root = state_root_
    return header_root(slot, proposer, fixed[32:64], hdr_state_root, fixed[96:128])


def attestation_data_root(d: bytes) -> bytes:
    """AttestationData { slot, head, target, source } (128 bytes)."""
    leaves = [u64_chunk(struct.unpack_from("<Q", d, 0)[0])]
    for at in (8, 48, 88):
        leaves.append(checkpoint_root(d[at : at + 32], struct.unpack_from("<Q", d, at + 32)[0]))
    return merkleize(b"".join(leaves), 2)


def block_roots(signed: bytes) -> dict:
    """Decodes an lstar SignedBlock: its slot, state_root, body root and block root."""
    block_at, proof_at = struct.unpack_from("<II", signed, 0)
    if block_at != 8 or not block_at <= proof_at <= len(signed):
        raise ValueError("signed block offsets")
    block = signed[block_at:proof_at]
    slot, proposer = struct.unpack_from("<QQ", block, 0)
    parent, state_root_ = block[16:48], block[48:80]
    if struct.unpack_from("<I", block, 80)[0] != BLOCK_FIXED:
        raise ValueError("block body offset")
    body = block[BLOCK_FIXED:]
    if struct.unpack_from("<I", body, 0)[0] != 4:
        raise ValueError("block body offset of attestations")
    atts = body[4:]
    roots = []
    if atts:
        first = struct.unpack_from("<I", atts, 0)[0]
        count = first // 4
        if first == 0 or first % 4 or first > len(atts) or count > ATTESTATIONS_LIMIT:
            raise ValueError("attestation offsets")
        ends = [struct.unpack_from("<I", atts, 4 * i)[0] for i in range(1, count)] + [len(atts)]
        start = first
        for end in ends:
            a = atts[start:end]
            if struct.unpack_from("<I", a, 0)[0] != 4 + 128:
                raise ValueError("aggregation bits offset")
            bits = bitlist_root(a[132:], AGGREGATION_BITS_LIMIT)
            roots.append(hash_pair(bits, attestation_data_root(a[4:132])))
            start = end
    body_root = mix_in_length(merkleize(b"".join(roots), depth_for(ATTESTATIONS_LIMIT)), len(roots))
    return {
        "slot": slot,
        "state_root": state_root_,
        "body_root": body_root,
        "block_root": header_root(slot, proposer, parent, state_root_, body_root),
    }


def hex_root(r: bytes) -> str:
    return "0x" + r.hex()


def grow_state(state: bytes, target: int) -> bytes:
    """The fixture state grown to exactly `target` bytes (unchanged if `target` is not
    above its size), laid out as `big_state` in tests/common/inbound.rs."""
    if target <= len(state):
        return state
    o = state_offsets(state)
    history = state[o[0] : o[1]]
    middle = state[o[1] : o[4]]
    room = target - FIXED_PART - len(middle) - 1
    hashes = max(min(room // 32 * 32, HISTORICAL_ROOTS_LIMIT * 32 - 32), len(history))
    bits = room - hashes
    if bits < 0:
        raise SystemExit(f"--state-bytes {target} is too small to grow the fixture state")
    if bits * 8 > JUSTIFICATION_VALIDATORS_LIMIT:
        raise SystemExit(f"--state-bytes {target} is over the lstar limits")
    fixed = bytearray(state[:FIXED_PART])
    moved = [o[0]] + [x - o[1] + FIXED_PART + hashes for x in o[1:]]
    struct.pack_into("<5I", fixed, OFFSETS_AT, *moved)
    hist = (bytes(range(251)) * (hashes // 251 + 1))[:hashes]
    tail = (bytes(range(241)) * (bits // 241 + 1))[:bits]
    out = bytes(fixed) + hist + middle + tail + b"\x01"
    assert len(out) == target
    return out


class Bundle:
    """One consistent bundle: the state's fixed part (the rest of the state is shared by
    all variants), the signed block, the fork choice JSON, and their roots."""

    def __init__(self, head: bytes, block: bytes, fork_choice: bytes, state_root_: bytes, block_root: bytes):
        self.head = head
        self.block = block
        self.fork_choice = fork_choice
        self.state_root = state_root_
        self.block_root = block_root


def make_bundles(state: bytes, block: bytes, fork_choice: bytes, count: int) -> list:
    """`count` consistent bundles around `state`: variant k has k xor-ed into one byte of
    genesis_time (variant 0 is `state` itself). The field roots are hashed once."""
    fields = state_field_roots(state)
    fixture_root = FIXTURE_BLOCK_ROOT.encode()
    if fixture_root not in fork_choice:
        raise SystemExit("the fork choice fixture does not name the fixture's finalized root")
    block_at = struct.unpack_from("<I", block, 0)[0]
    at = block_at + BLOCK_STATE_ROOT_AT
    bundles = []
    for k in range(count):
        head = bytearray(state[:FIXED_PART])
        head[GENESIS_TIME_BYTE] ^= k
        head = bytes(head)
        sroot = state_root_from(head, fields)
        patched = bytearray(block)
        patched[at : at + 32] = sroot
        patched = bytes(patched)
        broot = block_roots(patched)["block_root"]
        if broot != header_block_root(head, sroot):
            raise SystemExit("the block and the state's latest_block_header disagree")
        fc = fork_choice.replace(fixture_root, hex_root(broot).encode())
        bundles.append(Bundle(head, patched, fc, sroot, broot))
    return bundles


def check(cond: bool, what: str) -> None:
    print(f"  {'ok  ' if cond else 'FAIL'} {what}", file=sys.stderr)
    if not cond:
        raise SystemExit(1)


def finalized_root_in(fork_choice: bytes) -> str:
    import json

    return json.loads(fork_choice)["finalized"]["root"]


def self_test(read, state_bytes: int) -> int:
    print("self-test: merkleization against a naive padded tree", file=sys.stderr)
    for n, depth in [(0, 3), (1, 0), (1, 4), (3, 2), (5, 5), (8, 3)]:
        data = bytes((7 * i + n) % 256 for i in range(32 * n))
        leaves = [data[i : i + 32] for i in range(0, len(data), 32)]
        leaves += [bytes(32)] * ((1 << depth) - len(leaves))
        while len(leaves) > 1:
            leaves = [hash_pair(leaves[i], leaves[i + 1]) for i in range(0, len(leaves), 2)]
        check(merkleize(data, depth) == leaves[0], f"{n} chunks, depth {depth}")

    print("self-test: live fixtures", file=sys.stderr)
    state, block, fc = read("states_finalized.ssz"), read("blocks_finalized.ssz"), read("fork_choice.body")
    sroot = state_root(state)
    b = block_roots(block)
    check(hex_root(sroot) == FIXTURE_STATE_ROOT, f"hash_tree_root(state) = {hex_root(sroot)}")
    check(hex_root(b["block_root"]) == FIXTURE_BLOCK_ROOT, f"block root = {hex_root(b['block_root'])}")
    check(b["state_root"] == sroot, "block.state_root = hash_tree_root(state)")
    check(header_block_root(state, sroot) == b["block_root"], "state header with state_root = block root")
    check(finalized_root_in(fc) == FIXTURE_BLOCK_ROOT, "fork choice finalized root = block root")

    target = state_bytes or 16 * 1024 * 1024
    print(f"self-test: grown state of {target} bytes, 3 variants", file=sys.stderr)
    t0 = time.monotonic()
    grown = grow_state(state, target)
    bundles = make_bundles(grown, block, fc, 3)
    print(f"  built in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    check(len(grown) == target, f"length {len(grown)}")
    o = state_offsets(grown)
    check((o[1] - o[0]) // 32 <= HISTORICAL_ROOTS_LIMIT, f"history {(o[1] - o[0]) // 32} roots <= 2^18")
    check(grown[-1] != 0, "last byte (bitlist delimiter) nonzero")
    check(o[4] - o[1] == state_offsets(state)[4] - state_offsets(state)[1], "justified slots, validators, justification roots kept")
    seen = set()
    tail = grown[FIXED_PART:]
    for k, bd in enumerate(bundles):
        served = bd.head + tail  # what a GET of the state sends
        r = state_root(served)  # everything rehashed from the served bytes
        br = block_roots(bd.block)
        check(r == bd.state_root and br["state_root"] == r, f"variant {k}: block.state_root = hash_tree_root(state) {hex_root(r)[:18]}")
        check(br["block_root"] == header_block_root(served, r), f"variant {k}: state header = block root")
        check(finalized_root_in(bd.fork_choice) == hex_root(br["block_root"]), f"variant {k}: fork choice finalized root = block root {hex_root(br['block_root'])[:18]}")
        check(struct.unpack_from("<Q", served, 8)[0] == br["slot"] == 18, f"variant {k}: slot 18")
        seen.add(br["block_root"])
    check(len(seen) == len(bundles), "every variant has its own root")
    print("self-test passed", file=sys.stderr)
    return 0


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    default_dir = os.path.normpath(os.path.join(here, "..", "..", "tests", "fixtures", "lean-api", "live"))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", default=None)
    p.add_argument("--fixtures", default=os.environ.get("LEAN_FIXTURES", default_dir))
    p.add_argument("--state-bytes", type=int, default=0)
    p.add_argument("--dump-state", default=None, help="write the served state here too")
    p.add_argument("--advance-every", type=int, default=0, help="fork_choice requests per new bundle")
    p.add_argument("--self-test", action="store_true", help="check the roots and exit")
    args = p.parse_args()

    def read(name: str) -> bytes:
        with open(os.path.join(args.fixtures, name), "rb") as f:
            return f.read()

    if args.self_test:
        return self_test(read, args.state_bytes)

    t0 = time.monotonic()
    state = grow_state(read("states_finalized.ssz"), args.state_bytes)
    bundles = make_bundles(
        state,
        read("blocks_finalized.ssz"),
        read("fork_choice.body"),
        VARIANTS if args.advance_every > 0 else 1,
    )
    tail = memoryview(state)[FIXED_PART:]
    hashed_s = time.monotonic() - t0
    if args.dump_state:
        with open(args.dump_state, "wb") as f:
            f.write(bundles[0].head)
            f.write(tail)
    static = {
        "/lean/v0/checkpoints/justified": read("checkpoints_justified.body"),
        "/lean/v0/health": read("health.body"),
    }

    lock = threading.Lock()
    fork_choices = [0]  # counted fork_choice requests so far

    def bundle_for(count_fork_choice: bool) -> Bundle:
        """The bundle of the fork choice served last (or, counting, of this one)."""
        with lock:
            if count_fork_choice:
                fork_choices[0] += 1
            if args.advance_every <= 0:
                return bundles[0]
            n = max(fork_choices[0] - 1, 0)
            return bundles[n // args.advance_every % len(bundles)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, status: int, ctype: str, parts: list) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(sum(len(x) for x in parts)))
            self.end_headers()
            for x in parts:
                self.wfile.write(x)

        def do_GET(self):  # noqa: N802 (http.server naming)
            path, _, query = self.path.partition("?")
            if path.endswith("/lean/v0/fork_choice"):
                self.reply(200, "application/json", [bundle_for(query != "probe").fork_choice])
            elif path.endswith("/lean/v0/blocks/finalized"):
                self.reply(200, "application/octet-stream", [bundle_for(False).block])
            elif path.endswith("/lean/v0/states/finalized"):
                self.reply(200, "application/octet-stream", [bundle_for(False).head, tail])
            else:
                for suffix, body in static.items():
                    if path.endswith(suffix):
                        self.reply(200, "application/json", [body])
                        return
                self.reply(404, "text/plain", [b"not found\n"])

        def log_message(self, *a):  # quiet
            pass

    ThreadingHTTPServer.daemon_threads = True
    # The default listen backlog (5) drops the SYNs of 16 upstreams connecting at once,
    # and each dropped one costs a 1 s retransmission in the first round.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(
        f"mock lean node on 127.0.0.1:{port}, state {len(state)} bytes, {len(bundles)} bundle(s)"
        f" hashed in {hashed_s:.1f} s, finalized root {hex_root(bundles[0].block_root)}",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

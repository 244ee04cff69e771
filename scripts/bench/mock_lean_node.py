#!/usr/bin/env python3
"""Mock lean node for the benchmarks: serves the captured live fixtures.

  GET <any prefix>/lean/v0/states/finalized     states_finalized.ssz (or a padded copy)
  GET <any prefix>/lean/v0/checkpoints/justified checkpoints_justified.body
  GET <any prefix>/lean/v0/fork_choice           fork_choice.body
  GET <any prefix>/lean/v0/health                health.body

HTTP/1.1 with keep-alive, one thread per connection (ThreadingHTTPServer).

--state-bytes N grows the fixture state to about N bytes while keeping it a valid SSZ
`State` (src/lean/ssz.rs): extra 32-byte roots are appended to historical_block_hashes,
so the first offset stays 228 and the four later offsets move by the same multiple of
32. The fixed part (slots, checkpoints) is untouched, so it agrees with the fixture's
justified checkpoint and fork choice.

--advance-every N makes the finalized state change: after every N state requests the
state's slot (bytes 8..16) goes up by one, as when finality advances between poll
rounds (N = the number of upstreams leanpoint lists for this node: one change per round).
A request with the query `?probe` is answered without being counted.

--port 0 picks a free port; --port-file writes the bound port there once listening.
"""
import argparse
import os
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXED_PART = 228
OFFSETS_AT = 208


def grow_state(state: bytes, target: int) -> bytes:
    """Pads historical_block_hashes so the state is about `target` bytes (never less
    than the original; a multiple of 32 bytes is added)."""
    if target <= len(state):
        return state
    offsets = list(struct.unpack_from("<5I", state, OFFSETS_AT))
    if offsets[0] != FIXED_PART:
        raise SystemExit(f"unexpected first offset {offsets[0]}")
    extra = (target - len(state)) // 32 * 32
    # Recognisable, non-zero filler roots: the 32-byte big-endian index.
    filler = b"".join(i.to_bytes(32, "big") for i in range(extra // 32))
    shifted = [offsets[0]] + [o + extra for o in offsets[1:]]
    fixed = bytearray(state[:FIXED_PART])
    struct.pack_into("<5I", fixed, OFFSETS_AT, *shifted)
    hist_end = offsets[1]
    return bytes(fixed) + state[FIXED_PART:hist_end] + filler + state[hist_end:]


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    default_dir = os.path.normpath(
        os.path.join(here, "..", "..", "..", "shared", "fixtures", "lean-api", "live")
    )
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", default=None)
    p.add_argument("--fixtures", default=os.environ.get("LEAN_FIXTURES", default_dir))
    p.add_argument("--state-bytes", type=int, default=0)
    p.add_argument("--dump-state", default=None, help="write the served state here too")
    p.add_argument("--advance-every", type=int, default=0)
    args = p.parse_args()

    def read(name: str) -> bytes:
        with open(os.path.join(args.fixtures, name), "rb") as f:
            return f.read()

    state = grow_state(read("states_finalized.ssz"), args.state_bytes)
    if args.dump_state:
        with open(args.dump_state, "wb") as f:
            f.write(state)
    routes = {
        "/lean/v0/states/finalized": ("application/octet-stream", state),
        "/lean/v0/checkpoints/justified": ("application/json", read("checkpoints_justified.body")),
        "/lean/v0/fork_choice": ("application/json", read("fork_choice.body")),
        "/lean/v0/health": ("application/json", read("health.body")),
    }

    base_slot = struct.unpack_from("<Q", state, 8)[0]
    lock = threading.Lock()
    served = [0, state]  # state requests so far, the state for the current slot

    def current_state(count: bool) -> bytes:
        with lock:
            if not count:
                return served[1]
            n = served[0]
            served[0] += 1
            if args.advance_every <= 0:
                return served[1]
            slot = base_slot + n // args.advance_every
            if struct.unpack_from("<Q", served[1], 8)[0] != slot:
                patched = bytearray(served[1])
                struct.pack_into("<Q", patched, 8, slot)
                served[1] = bytes(patched)
            return served[1]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server naming)
            path, _, query = self.path.partition("?")
            for suffix, (ctype, body) in routes.items():
                if path.endswith(suffix):
                    break
            else:
                ctype, body = "text/plain", b"not found\n"
                self.send_response(404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if suffix == "/lean/v0/states/finalized":
                body = current_state(query != "probe")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):  # quiet
            pass

    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"mock lean node on 127.0.0.1:{port}, state {len(state)} bytes", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

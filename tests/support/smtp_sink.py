#!/usr/bin/env python3
"""A real SMTP server on loopback for leakwatch's tests (aiosmtpd, from PyPI).

Usage: smtp_sink.py DIR [--port N]
Listens on 127.0.0.1 (port 0 by default: a free one), prints one line
`listening 127.0.0.1:PORT` on standard output once it accepts connections, and stores each
message it receives as DIR/NNNN.eml (the data exactly as received) with DIR/NNNN.json beside
it ({"mail_from": ..., "rcpt_tos": [...]}); the .json is written last, so a reader that sees
it can read the pair. Runs until killed.
"""
import argparse
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = os.path.join(self.directory, f"{self.count:04d}")
        with open(stem + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        with open(stem + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.replace(stem + ".json.tmp", stem + ".json")
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    handler = Store(args.directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

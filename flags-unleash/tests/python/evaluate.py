"""Evaluates toggles with Unleash's official Python SDK, for the agreement test in
flags-unleash/tests/server_edits.rs.

Reads one JSON object on standard input:
  {"url": ..., "token": ..., "app": ..., "environment": ...,
   "toggles": [names], "user_ids": [ids]}
and writes one JSON object: {"toggle": [[enabled, variant name], ...], ...}, one pair
per user id, in order. The SDK fetches once, with metrics and registration off.
"""

import json
import sys
import tempfile
import time

from UnleashClient import UnleashClient


def main() -> None:
    job = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as cache_dir:
        client = UnleashClient(
            url=job["url"],
            app_name=job["app"],
            environment=job["environment"],
            custom_headers={"Authorization": job["token"]},
            refresh_interval=3600,
            disable_metrics=True,
            disable_registration=True,
            cache_directory=cache_dir,
        )
        client.initialize_client()
        deadline = time.monotonic() + 60
        while not client.is_initialized and time.monotonic() < deadline:
            time.sleep(0.05)
        if not client.is_initialized:
            sys.exit("the Python SDK did not initialise within 60 s")
        out = {}
        for toggle in job["toggles"]:
            answers = []
            for user_id in job["user_ids"]:
                context = {"userId": user_id}
                enabled = client.is_enabled(toggle, context)
                variant = client.get_variant(toggle, context)
                answers.append([enabled, variant["name"]])
            out[toggle] = answers
        client.destroy()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

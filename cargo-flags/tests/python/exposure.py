"""Follows one toggle with Unleash's official Python SDK, for the fleet rollout test in
cargo-flags/tests/rollout_fleet.rs: a service in another language reading the toggle
the controller drives.

Reads one JSON object on the first line of standard input:
  {"url": ..., "token": ..., "app": ..., "environment": ..., "toggle": ..., "users": N}
then, for every further line, prints on one line how many of the users
"user-0" .. "user-(N-1)" the toggle is enabled for, as the SDK sees it now. The SDK
refreshes every second, with metrics and registration off.
"""

import json
import sys
import tempfile
import time

from UnleashClient import UnleashClient


def main() -> None:
    job = json.loads(sys.stdin.readline())
    users = [f"user-{i}" for i in range(job["users"])]
    with tempfile.TemporaryDirectory() as cache_dir:
        client = UnleashClient(
            url=job["url"],
            app_name=job["app"],
            environment=job["environment"],
            custom_headers={"Authorization": job["token"]},
            refresh_interval=1,
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
        print("ready", flush=True)
        for _ in sys.stdin:
            enabled = sum(
                1 for u in users if client.is_enabled(job["toggle"], {"userId": u})
            )
            print(enabled, flush=True)
        client.destroy()


if __name__ == "__main__":
    main()

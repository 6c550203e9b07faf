"""Matrix E2EE key objects made as a client makes them, with real olm accounts (Debian's
python3-olm): canonical JSON, signatures, device keys, signed one-time and fallback keys. Shared by
the integration and interop suites that exercise the server's key endpoints."""
from __future__ import annotations

import copy
import json

import olm

OLM_ALG = "m.olm.v1.curve25519-aes-sha2"
MEGOLM = "m.megolm.v1.aes-sha2"
OTK_ALG = "signed_curve25519"


def canonical(obj: dict) -> str:
    """The spec's canonical JSON of a signed object: without `signatures` and `unsigned`."""
    body = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def with_signature(obj: dict, user_id: str, key_id: str, sign) -> dict:
    """obj plus a signature by `sign` (a function of the canonical text) under user/key_id."""
    out = copy.deepcopy(obj)
    out.setdefault("signatures", {}).setdefault(user_id, {})[key_id] = sign(canonical(obj))
    return out


class OlmKeys:
    """A device's olm account, producing signed key objects as a client would upload them."""

    def __init__(self, user_id: str, device_id: str):
        self.user_id, self.device_id = user_id, device_id
        self.account = olm.Account()

    def signed(self, obj: dict) -> dict:
        return with_signature(obj, self.user_id, f"ed25519:{self.device_id}", self.account.sign)

    def device_keys(self, **extra) -> dict:
        ids = self.account.identity_keys
        return self.signed({
            "user_id": self.user_id, "device_id": self.device_id,
            "algorithms": [OLM_ALG, MEGOLM],
            "keys": {f"curve25519:{self.device_id}": ids["curve25519"],
                     f"ed25519:{self.device_id}": ids["ed25519"]}, **extra})

    def one_time_keys(self, n: int) -> dict:
        self.account.generate_one_time_keys(n)
        keys = {f"{OTK_ALG}:{kid}": self.signed({"key": key})
                for kid, key in self.account.one_time_keys["curve25519"].items()}
        self.account.mark_keys_as_published()
        return keys

    def fallback_key(self) -> dict:
        self.account.generate_fallback_key()
        (kid, key), = self.account.fallback_key["curve25519"].items()
        return {f"{OTK_ALG}:{kid}": self.signed({"key": key, "fallback": True})}

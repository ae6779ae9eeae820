"""Rate limits for anonymous filing and receipt look-ups (ASVS 2.4.1: anti-automation).

Fixed windows counted in Redis when ``EARLYWARN_REDIS_URL`` is set (shared by every worker and machine),
else in this process's memory. The client key is a keyed hash of the address with a secret that lives only
in memory and changes every day: the limiter can tell two requests apart without any address being stored
anywhere — in the database, in Redis or in a log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


FILE_REPORT = Limit("file", 5, 600)
RECEIPT_LOOKUP = Limit("receipt", 10, 600)
RECEIPT_LOOKUP_GLOBAL = Limit("receipt-all", 300, 60)  # caps a distributed guesser as well


class RateLimiter:
    def __init__(self, redis_url: str | None = None):
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=2)
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}
        self._salt_day = -1
        self._salt = b""

    def client_key(self, address: str | None) -> str:
        day = int(time.time() // 86400)
        with self._lock:
            if day != self._salt_day:
                self._salt_day, self._salt = day, secrets.token_bytes(32)
            salt = self._salt
        return hmac.new(salt, (address or "-").encode(), hashlib.sha256).hexdigest()[:32]

    def hit(self, limit: Limit, key: str) -> bool:
        """Count one attempt; False when the window's allowance is used up."""
        bucket = f"earlywarn:rl:{limit.name}:{key}:{int(time.time() // limit.seconds)}"
        if self._redis is not None:
            pipe = self._redis.pipeline()
            pipe.incr(bucket)
            pipe.expire(bucket, limit.seconds + 5)
            count = pipe.execute()[0]
            return count <= limit.count
        now = time.monotonic()
        with self._lock:
            if len(self._counts) > 50_000:  # drop expired windows now and then
                self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
            expires, count = self._counts.get(bucket, (now + limit.seconds, 0))
            self._counts[bucket] = (expires, count + 1)
            return count + 1 <= limit.count

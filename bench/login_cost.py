"""What a login costs in hashing: argon2id (19 MiB, t=2, p=1) hash and verify, median of 21."""

import statistics
import time

from app.core.security import _context, hash_password_sync

samples_hash, samples_verify = [], []
for _ in range(21):
    started = time.perf_counter()
    stored = hash_password_sync("correct horse battery staple 42")
    samples_hash.append(time.perf_counter() - started)
    started = time.perf_counter()
    assert _context.verify("correct horse battery staple 42", stored)
    samples_verify.append(time.perf_counter() - started)
print(f"argon2id hash   median {statistics.median(samples_hash) * 1000:.1f} ms")
print(f"argon2id verify median {statistics.median(samples_verify) * 1000:.1f} ms")

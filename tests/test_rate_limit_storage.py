"""Login limits are shared by every web process through Redis when REDIS_URL is set."""

from __future__ import annotations

import os
import re
import uuid

import pytest
import redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not answering at {REDIS_URL}")
    return REDIS_URL


def test_two_app_processes_share_login_limits_through_redis(make_app, clinic_a, redis_url):
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_LIMIT_PER_ACCOUNT": "2 per minute",
    }
    first, second = make_app(**settings), make_app(**settings)
    attempt = {"email": clinic_a.email("owner"), "password": "wrong-password-1"}
    codes = []
    for app in (first, second, first):
        client = app.test_client()
        token = re.search(rb'name="csrf-token" content="([^"]+)"', client.get("/login").data)[1]
        codes.append(client.post("/login", data=dict(attempt, csrf_token=token)).status_code)
    assert codes == [401, 401, 429]
    keys = redis.Redis.from_url(redis_url).keys(f"*{prefix}*")
    assert keys, "the limiter wrote nothing to Redis"
    redis.Redis.from_url(redis_url).delete(*keys)

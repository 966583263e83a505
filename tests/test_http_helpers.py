"""The core's HTTP helpers for source plugins: ``Retry-After`` in every form, attempts and
error classification of :func:`source_request` against a real local server, ``Link`` paging and
the client-side request budget (on a fake clock: no test sleeps for real)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dunning.core.errors import ConfigError, SourceError
from dunning.core.http import (
    AnswerLost,
    RequestStats,
    RetryPolicy,
    rate_limit_state,
    retry_after_seconds,
    source_request,
)
from dunning.core.paging import follow_pages, next_link
from dunning.core.ratelimit import RequestBudget

NOW = datetime(2026, 3, 16, 12, 0, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
QUICK = RetryPolicy(max_attempts=3, wait_seconds=0, max_retry_after_seconds=5, timeout=2)
HINT = "check source.token, or run `dunning auth moneybird` again"
EXACT_MINUTE = ("X-RateLimit-Minutely-Remaining", "X-RateLimit-Minutely-Reset")


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def wall(self) -> float:
        return EPOCH + self.now


def budget_on(clock: FakeClock, limit: int, window: float) -> RequestBudget:
    return RequestBudget(limit, window, clock=clock, sleep=clock.sleep, wall_clock=clock.wall)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened


def get(
    session: requests.Session, url: str, policy: RetryPolicy = QUICK, **kwargs: Any
) -> requests.Response:
    return source_request(session, "GET", url, what="Moneybird", policy=policy, **kwargs)


# Retry-After


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Mon, 16 Mar 2026 12:01:30 GMT", 90.0),
        (str(EPOCH + 45), 45.0),
        (str(EPOCH * 1000 + 2_500), 2.5),
        ("Mon, 16 Mar 2026 11:00:00 GMT", 0.0),
        (str(EPOCH - 600), 0.0),
        (str(EPOCH * 1000 - 1), 0.0),
    ],
    ids=["delta", "padded", "http-date", "epoch-s", "epoch-ms", "past-date", "past-s", "past-ms"],
)
def test_retry_after_is_read_in_every_form_platforms_send(header: str, seconds: float):
    assert retry_after_seconds(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "soon", "-5"])
def test_an_unreadable_retry_after_is_none(header: str | None):
    assert retry_after_seconds(header, now=NOW) is None


def test_rate_limit_reset_in_epoch_ms_becomes_epoch_seconds(httpserver: HTTPServer):
    reset_ms = int((time.time() + 30) * 1000)
    httpserver.expect_request("/").respond_with_data(
        "{}", headers={EXACT_MINUTE[0]: "12", EXACT_MINUTE[1]: str(reset_ms)}
    )
    remaining, reset = rate_limit_state(requests.get(httpserver.url_for("/")), EXACT_MINUTE)
    assert remaining == 12
    assert reset == pytest.approx(reset_ms / 1000)


# Attempts


def test_429_is_retried_after_the_servers_wait_not_the_backoff(
    httpserver: HTTPServer, session: requests.Session
):
    httpserver.expect_oneshot_request("/invoices.json").respond_with_data(
        "Retry later", status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_request("/invoices.json").respond_with_json([{"id": "1"}])
    stats = RequestStats()
    slow_backoff = RetryPolicy(max_attempts=3, wait_seconds=60, timeout=2)
    started = time.monotonic()
    response = get(session, httpserver.url_for("/invoices.json"), slow_backoff, stats=stats)
    assert time.monotonic() - started < 5
    assert response.json() == [{"id": "1"}]
    assert (stats.requests_sent, stats.throttled) == (2, 1)


def test_429_with_a_retry_after_moment_already_past_is_retried_at_once(
    httpserver: HTTPServer, session: requests.Session
):
    httpserver.expect_oneshot_request("/").respond_with_data(
        "Retry later", status=429, headers={"Retry-After": str(int(time.time()) - 5)}
    )
    httpserver.expect_request("/").respond_with_data("[]")
    slow_backoff = RetryPolicy(max_attempts=2, wait_seconds=60, timeout=2)
    assert get(session, httpserver.url_for("/"), slow_backoff).status_code == 200


def test_exact_429_without_retry_after_waits_for_the_minutely_reset(
    httpserver: HTTPServer, session: requests.Session
):
    past_ms = int(time.time() * 1000) - 1000
    httpserver.expect_oneshot_request("/").respond_with_data(
        "", status=429, headers={EXACT_MINUTE[0]: "0", EXACT_MINUTE[1]: str(past_ms)}
    )
    httpserver.expect_request("/").respond_with_data("{}")
    slow_backoff = RetryPolicy(max_attempts=2, wait_seconds=60, timeout=2)
    started = time.monotonic()
    response = get(session, httpserver.url_for("/"), slow_backoff, rate_limit_headers=EXACT_MINUTE)
    assert response.status_code == 200
    assert time.monotonic() - started < 5


def test_a_wait_longer_than_the_policy_allows_ends_the_attempts(
    httpserver: HTTPServer, session: requests.Session
):
    in_five_minutes = str(int(time.time()) + 300)
    httpserver.expect_request("/").respond_with_data(
        "Retry later", status=429, headers={"Retry-After": in_five_minutes}
    )
    with pytest.raises(
        SourceError, match=r"Moneybird answered 429 .* asks to wait (29\d|300) s"
    ) as e:
        get(session, httpserver.url_for("/"))
    assert "next run" in str(e.value)
    assert len(httpserver.log) == 1


def test_5xx_then_success_returns_the_success(httpserver: HTTPServer, session: requests.Session):
    httpserver.expect_oneshot_request("/").respond_with_data("down", status=503)
    httpserver.expect_oneshot_request("/").respond_with_data("oops", status=500)
    httpserver.expect_request("/").respond_with_json({"ok": True})
    assert get(session, httpserver.url_for("/")).json() == {"ok": True}
    assert len(httpserver.log) == 3


def test_5xx_on_every_attempt_is_left_for_the_next_run(
    httpserver: HTTPServer, session: requests.Session
):
    httpserver.expect_request("/").respond_with_data("down", status=502)
    with pytest.raises(SourceError, match=r"Moneybird answered 502 BAD GATEWAY \(3 attempts\)"):
        get(session, httpserver.url_for("/"))


class Slow:
    """A handler that answers only after ``seconds``. The server answers one request at a time,
    so a test waits for every slow answer to be written before it ends (:meth:`settle`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0
        self.answered = 0

    def __call__(self, request: Request) -> Response:
        self.calls += 1
        time.sleep(self.seconds)
        self.answered += 1
        return Response("[]", content_type="application/json")

    def settle(self) -> None:
        deadline = time.monotonic() + 5
        while self.answered < self.calls and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.05)


@pytest.fixture
def slow() -> Iterator[Slow]:
    handler = Slow(0.3)
    yield handler
    handler.settle()


def test_a_timeout_then_an_answer_returns_the_answer(
    httpserver: HTTPServer, session: requests.Session, slow: Slow
):
    httpserver.expect_oneshot_request("/").respond_with_handler(slow)
    httpserver.expect_request("/").respond_with_data("[]")
    policy = RetryPolicy(max_attempts=2, wait_seconds=0.4, timeout=0.1)
    assert get(session, httpserver.url_for("/"), policy).text == "[]"


def test_timeouts_on_every_attempt_are_left_for_the_next_run(
    httpserver: HTTPServer, session: requests.Session, slow: Slow
):
    httpserver.expect_request("/").respond_with_handler(slow)
    policy = RetryPolicy(max_attempts=2, wait_seconds=0, timeout=0.1)
    with pytest.raises(SourceError, match=r"did not answer within 0.1 s \(2 attempts\)"):
        get(session, httpserver.url_for("/"), policy)


def test_a_write_without_an_answer_is_not_sent_twice(
    httpserver: HTTPServer, session: requests.Session, slow: Slow
):
    httpserver.expect_request("/payments.json").respond_with_handler(slow)
    policy = RetryPolicy(max_attempts=3, wait_seconds=0, timeout=0.1, replay_after_send=False)
    url = httpserver.url_for("/payments.json")
    with pytest.raises(AnswerLost, match="may have taken effect"):
        source_request(session, "POST", url, what="Moneybird", policy=policy, json={})
    deadline = time.monotonic() + 5  # on a busy machine the server may pick the request up late
    while slow.calls < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    slow.settle()
    assert slow.calls == 1


def test_a_platform_that_cannot_be_reached_is_left_for_the_next_run(session: requests.Session):
    policy = RetryPolicy(max_attempts=2, wait_seconds=0, timeout=1)
    with pytest.raises(SourceError, match=r"cannot connect to Moneybird .*\(2 attempts\)"):
        get(session, "http://127.0.0.1:1/api/v2/administrations.json", policy)


# Classification


@pytest.mark.parametrize(
    ("status", "said"),
    [(401, "Moneybird refused the credentials (401 UNAUTHORIZED)"), (403, "denied access to")],
)
def test_refused_credentials_are_a_config_error_naming_the_setting(
    httpserver: HTTPServer, session: requests.Session, status: int, said: str
):
    httpserver.expect_request("/").respond_with_json(
        {"error": "Token is invalid", "symbolic": {"token": "invalid"}}, status=status
    )
    with pytest.raises(ConfigError) as refused:
        get(session, httpserver.url_for("/"), auth_hint=HINT)
    message = str(refused.value)
    assert said in message
    assert message.endswith(HINT)
    assert "Token is invalid" in message
    assert "\n" not in message
    assert len(httpserver.log) == 1


def test_404_is_a_source_error_naming_the_url(httpserver: HTTPServer, session: requests.Session):
    httpserver.expect_request("/api/v2/123/sales_invoices.json").respond_with_json(
        {"error": "record not found", "symbolic": {"id": "not_found"}}, status=404
    )
    url = httpserver.url_for("/api/v2/123/sales_invoices.json")
    with pytest.raises(SourceError, match="record not found") as missing:
        get(session, url)
    assert f"has nothing at {url} (404 NOT FOUND)" in str(missing.value)
    assert len(httpserver.log) == 1


def test_422_is_a_source_error_with_status_and_a_piece_of_the_body(
    httpserver: HTTPServer, session: requests.Session
):
    body = '{"error": {"payment_date": ["can\'t be blank"]},\n "details": {}}' + " x" * 300
    httpserver.expect_request("/payments.json").respond_with_data(body, status=422)
    url = httpserver.url_for("/payments.json")
    with pytest.raises(SourceError) as refused:
        source_request(session, "POST", url, what="Moneybird", policy=QUICK, json={})
    message = str(refused.value)
    assert f"Moneybird refused POST {url} (422 UNPROCESSABLE ENTITY)" in message
    assert "payment_date" in message
    assert message.endswith("...")
    assert "\n" not in message
    assert len(httpserver.log) == 1


def test_a_2xx_with_malformed_json_is_returned_for_the_caller_to_judge(
    httpserver: HTTPServer, session: requests.Session
):
    httpserver.expect_request("/").respond_with_data("<html>proxy</html>", status=200)
    assert get(session, httpserver.url_for("/")).text == "<html>proxy</html>"


# Paging


def serve_pages(httpserver: HTTPServer, next_of_last: str | None = None) -> None:
    base = httpserver.url_for("/sales_invoices.json")
    for page in (1, 2, 3):
        following = f"{base}?page={page + 1}&per_page=2" if page < 3 else next_of_last
        headers = {"Link": f'<{following}>; rel="next"'} if following else {}
        httpserver.expect_request(
            "/sales_invoices.json", query_string={"page": str(page), "per_page": "2"}
        ).respond_with_json([{"id": f"{page}a"}, {"id": f"{page}b"}], headers=headers)


def fetcher(session: requests.Session, stats: RequestStats) -> Any:
    def fetch(url: str, params: dict[str, Any] | None) -> requests.Response:
        return get(session, url, params=params, stats=stats)

    return fetch


def test_pages_are_followed_by_their_link_header_until_the_last(
    httpserver: HTTPServer, session: requests.Session
):
    serve_pages(httpserver)
    stats = RequestStats()
    pages = follow_pages(
        fetcher(session, stats),
        httpserver.url_for("/sales_invoices.json"),
        {"page": 1, "per_page": 2},
    )
    ids = [row["id"] for page in pages for row in page.json()]
    assert ids == ["1a", "1b", "2a", "2b", "3a", "3b"]
    assert stats.requests_sent == 3


def test_a_next_link_back_to_a_page_already_read_stops_the_sync(
    httpserver: HTTPServer, session: requests.Session
):
    serve_pages(
        httpserver, next_of_last=httpserver.url_for("/sales_invoices.json?page=2&per_page=2")
    )
    stats = RequestStats()
    pages = follow_pages(
        fetcher(session, stats),
        httpserver.url_for("/sales_invoices.json"),
        {"page": 1, "per_page": 2},
        what="Moneybird",
    )
    read = [next(pages).json()[0]["id"] for _ in range(3)]
    assert read == ["1a", "2a", "3a"]
    with pytest.raises(SourceError, match=r"Moneybird sent page 3 with a next link to a page"):
        next(pages)
    assert stats.requests_sent == 3


def test_a_page_linking_to_itself_stops_the_sync(httpserver: HTTPServer, session: requests.Session):
    url = httpserver.url_for("/sales_invoices.json?page=1")
    httpserver.expect_request("/sales_invoices.json").respond_with_json(
        [], headers={"Link": f'<{url}>; rel="next"'}
    )
    pages = follow_pages(fetcher(session, RequestStats()), url, None)
    next(pages)
    with pytest.raises(SourceError, match="endless loop"):
        next(pages)


def test_next_link_is_made_absolute_and_is_none_on_the_last_page(httpserver: HTTPServer):
    httpserver.expect_request("/a/list.json").respond_with_data(
        "[]",
        headers={"Link": '</a/list.json?page=2>; rel="next", </a/list.json?page=9>; rel="last"'},
    )
    httpserver.expect_request("/last.json").respond_with_data("[]")
    assert next_link(requests.get(httpserver.url_for("/a/list.json"))) == httpserver.url_for(
        "/a/list.json?page=2"
    )
    assert next_link(requests.get(httpserver.url_for("/last.json"))) is None


# Request budget


def test_the_budget_lets_the_limit_through_at_once_then_one_as_each_leaves_the_window():
    clock = FakeClock()
    budget = budget_on(clock, limit=5, window=10)
    moments = []
    for _ in range(23):
        budget.acquire()
        moments.append(clock.now)
    assert moments[:5] == [0.0] * 5
    assert moments[5:10] == [10.0] * 5
    assert moments[-1] == 40.0
    assert all(later - earlier >= 10 for earlier, later in zip(moments, moments[5:], strict=False))
    assert budget.requests_made == 23
    assert budget.waited_seconds == 40.0


def test_the_budget_slides_over_exact_moments_not_fixed_buckets():
    clock = FakeClock()
    budget = budget_on(clock, limit=3, window=10)
    moments = []
    for work in (0, 4, 4, 0, 0, 0):
        clock.now += work
        budget.acquire()
        moments.append(clock.now)
    assert moments == [0, 4, 8, 10, 14, 18]
    assert all(later - earlier >= 10 for earlier, later in zip(moments, moments[3:], strict=False))


def test_the_budget_reaches_the_full_allowed_rate():
    clock = FakeClock()
    budget = budget_on(clock, limit=150, window=300)
    while clock.now < 3000:
        budget.acquire()
    made_in_ten_windows = budget.requests_made - 1
    assert made_in_ten_windows == 150 * 10


def test_the_server_saying_fewer_are_left_tightens_the_budget_until_its_reset():
    clock = FakeClock()
    budget = budget_on(clock, limit=150, window=300)
    budget.observe(remaining=2, reset_epoch=clock.wall() + 60)
    for _ in range(3):
        budget.acquire()
    assert clock.sleeps == [60.0]
    for _ in range(10):
        budget.acquire()
    assert clock.sleeps == [60.0]
    assert budget.requests_made == 13


def test_the_server_saying_more_are_left_never_loosens_the_budget():
    clock = FakeClock()
    budget = budget_on(clock, limit=2, window=10)
    budget.observe(remaining=100, reset_epoch=clock.wall() + 60)
    for _ in range(3):
        budget.acquire()
    assert clock.sleeps == [10.0]


def test_a_later_answer_about_the_same_server_window_only_lowers_what_is_left():
    clock = FakeClock()
    budget = budget_on(clock, limit=150, window=300)
    reset = clock.wall() + 60
    budget.observe(remaining=1, reset_epoch=reset)
    budget.observe(remaining=9, reset_epoch=reset)
    budget.observe(remaining=None, reset_epoch=None)
    budget.acquire()
    budget.acquire()
    assert clock.sleeps == [60.0]


def test_the_budget_holds_across_threads():
    clock = FakeClock()
    budget = budget_on(clock, limit=5, window=10)
    workers = [
        threading.Thread(target=lambda: [budget.acquire() for _ in range(10)]) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert budget.requests_made == 40
    assert clock.now == 70.0


def test_source_request_takes_the_budget_before_every_attempt(
    httpserver: HTTPServer, session: requests.Session
):
    httpserver.expect_oneshot_request("/").respond_with_data(
        "Retry later", status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_request("/").respond_with_data("[]")
    clock = FakeClock()
    budget = budget_on(clock, limit=2, window=60)
    get(session, httpserver.url_for("/"), budget=budget)
    get(session, httpserver.url_for("/"), budget=budget)
    assert budget.requests_made == 3
    assert clock.sleeps == [60.0]


def test_source_request_feeds_the_servers_rate_limit_headers_to_the_budget(
    httpserver: HTTPServer, session: requests.Session
):
    reset = int(time.time()) + 30
    httpserver.expect_request("/").respond_with_data(
        "[]",
        headers={
            "RateLimit-Limit": "150",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset),
        },
    )
    clock = FakeClock()
    budget = RequestBudget(150, 300, clock=clock, sleep=clock.sleep)
    get(session, httpserver.url_for("/"), budget=budget)
    get(session, httpserver.url_for("/"), budget=budget)
    assert len(clock.sleeps) == 1
    assert 27 <= clock.sleeps[0] <= 30

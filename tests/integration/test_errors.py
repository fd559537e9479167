"""One error format: every error agricertd sends is the API's JSON error
({"error": {"code", "message", "message_zh", "request_id"}}, a stable code),
also those h2o would send by itself before any route is looked at: a body
over the limit (and over twice the largest limit, which h2o refuses while
reading), a request it cannot parse, a request line too long, too many or
too large headers, broken chunked encoding or Content-Length, an unknown
Expect, and the static files' 404 and 405. Raw sockets, so that nothing in
between fixes the requests up; one case on a kept-alive connection after a
good request."""
import json
import re
import socket

from harness import http, run_test

LIMIT = 65536  # max_body: the default limit
PHOTO_LIMIT = 3 << 20  # the largest route limit (a patrol's photos)


def main():
    run_test("errors", run, printers=False)


def read_response(s):
    """One response off s: (status, headers dict, body bytes), or (0, {}, b"") when the
    connection closed without one."""
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(65536)
        if not chunk:
            return 0, {}, got
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body[:n]


def exchange(port, data, keep=None):
    """Sends data on a new connection (or keep's) and reads one response."""
    s = keep or socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        return read_response(s)
    except OSError:
        return 0, {}, b""
    finally:
        if keep is None:
            s.close()


def check_error(t, what, got, status, code):
    st, headers, body = got
    t.eq(st, status, f"{what}: {status}")
    try:
        err = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        t.ok(False, f"{what}: a JSON error", body[:300])
        return
    t.ok(headers.get("content-type", "").startswith("application/json"),
         f"{what}: JSON content type", headers)
    t.eq(err.get("code"), code, f"{what}: code {code}")
    t.ok(err.get("message") and re.search(r"[\u4e00-\u9fff]", err.get("message_zh", "")),
         f"{what}: English and Chinese messages", err)
    t.ok(err.get("request_id") and err["request_id"] == headers.get("x-request-id"),
         f"{what}: its request id, also in X-Request-Id", (err, headers))


def post(path, body_len, extra=b""):
    return (f"POST {path} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
            f"Content-Length: {body_len}\r\n").encode() + extra + b"\r\n"


def run(t, svc):
    svc.start()
    port = svc.port
    body = b'{"x":"' + b"a" * LIMIT + b'"}'
    check_error(t, "a body over the limit", exchange(port, post("/api/v1/certificates", len(body)) + body),
                413, "body_too_large")
    # h2o stops reading past twice the largest route limit and answers itself.
    big = 2 * PHOTO_LIMIT + 1024
    check_error(t, "a body over twice the largest limit (h2o's 413)",
                exchange(port, post("/api/v1/certificates", big) + b"a" * 65536), 413, "body_too_large")
    check_error(t, "a request h2o cannot parse", exchange(port, b"GARBAGE\r\n\r\n"), 400, "bad_request")
    check_error(t, "a control byte in the request line",
                exchange(port, b"GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "bad_request")
    check_error(t, "a header line without a colon",
                exchange(port, b"GET / HTTP/1.1\r\nHost a\r\n\r\n"), 400, "bad_request")
    check_error(t, "a request line of 9000 bytes",
                exchange(port, b"GET /" + b"x" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"), 414, "uri_too_long")
    check_error(t, "a request line of 100 KB, unfinished",
                exchange(port, b"GET /" + b"x" * 100000), 414, "uri_too_long")
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    check_error(t, "150 headers", exchange(port, b"GET / HTTP/1.1\r\nHost: a\r\n" + many + b"\r\n"),
                431, "headers_too_large")
    check_error(t, "a header of 70 KB",
                exchange(port, b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n"),
                431, "headers_too_large")
    check_error(t, "broken chunked encoding",
                exchange(port, b"POST /api/v1/certificates HTTP/1.1\r\nHost: a\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
                400, "bad_request")
    check_error(t, "a Content-Length that is not a number",
                exchange(port, b"POST /api/v1/certificates HTTP/1.1\r\nHost: a\r\n"
                               b"Content-Length: abc\r\n\r\n"), 400, "bad_request")
    check_error(t, "an unknown Expect",
                exchange(port, b"POST /api/v1/certificates HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n"
                               b"Content-Length: 2\r\n\r\n{}"), 417, "expectation_failed")
    check_error(t, "a static file that is not there",
                exchange(port, b"GET /no-such-page.html HTTP/1.1\r\nHost: a\r\n\r\n"), 404, "not_found")
    check_error(t, "POST to a static file",
                exchange(port, post("/index.html", 2) + b"{}"), 405, "method_not_allowed")
    check_error(t, "an API path that is not there",
                exchange(port, b"GET /api/v1/nothing HTTP/1.1\r\nHost: a\r\n\r\n"), 404, "not_found")

    # A kept-alive connection: a good request, then one h2o cannot parse.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        st, _, _ = exchange(port, b"GET /api/v1/keys HTTP/1.1\r\nHost: a\r\n\r\n", keep=s)
        t.eq(st, 200, "a good request on a kept-alive connection")
        st, _, _ = exchange(port, b"GET /api/v1/keys HTTP/1.1\r\nHost: a\r\n\r\n", keep=s)
        t.eq(st, 200, "and another")
        check_error(t, "then a malformed one on the same connection",
                    exchange(port, b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n", keep=s), 400, "bad_request")
    finally:
        s.close()

    r = http("GET", svc.url + "/healthz")
    t.eq(r.status, 200, "the service still answers")
    log = svc.read_log()
    t.ok("- (request-line-too-long) 414" in log and "- (headers-too-large) 431" in log
         and "- (malformed-request) 400" in log,
         "the refused requests are logged", log[-3000:])
    rc = svc.stop()
    t.eq(rc, 0, "agricertd exits 0 on SIGTERM")
    t.ok("LeakSanitizer" not in svc.read_log() and "runtime error" not in svc.read_log(),
         "no sanitizer report", svc.read_log()[-3000:])


if __name__ == "__main__":
    main()

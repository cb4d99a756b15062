#include "requestsniffer.h"

#include <QList>

namespace parley::server {

namespace {

using Decision = RequestSniffer::Decision;
using Verdict = RequestSniffer::Verdict;

Decision reject(int status, const char* code, const char* message)
{
    Decision d;
    d.verdict = Verdict::Reject;
    d.status = status;
    d.code = code;
    d.message = message;
    return d;
}

// RFC 9110 token characters (method and header names).
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

// Whether the bytes seen so far can still be the start of a request line "METHOD SP /...".
// Lets garbage (a TLS hello, a stray protocol) be refused at once instead of at the timeout.
bool plausibleStart(QByteArrayView data)
{
    qsizetype i = 0;
    while (i < data.size() && isTokenChar(data[i])) {
        ++i;
    }
    if (i == data.size()) {
        return i <= 16; // still reading the method; no real method is longer
    }
    if (i == 0 || i > 16 || data[i] != ' ') {
        return false;
    }
    return i + 1 == data.size() || data[i + 1] == '/';
}

// Why the head seen so far cannot be valid because of a line end, or null. Every line of the
// head ends with CRLF: a bare LF (which RFC 9112 2.2 lets a recipient accept, but does not
// require it to) or a bare CR (which it must not accept as a line end) is refused as soon as it is
// seen. Waiting for a CRLF CRLF that such a client never sends would leave the connection to the
// header timeout. A CR as the last byte seen may still be followed by its LF.
const char* badLineEnd(QByteArrayView head)
{
    for (qsizetype i = 0; i < head.size(); ++i) {
        if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) {
            return "bare LF: lines must end with CRLF";
        }
        if (head[i] == '\r' && i + 1 < head.size() && head[i + 1] != '\n') {
            return "bare CR: lines must end with CRLF";
        }
    }
    return nullptr;
}

// RFC 9112 3.2: Host is uri-host [":" port]. Empty is allowed (a target without authority);
// whitespace, controls and the URI delimiters /?#@ are not, so a value with them is refused.
bool validHost(QByteArrayView value)
{
    for (char c : value) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || QByteArrayView("-._~%!$&'()*+,;=:[]").contains(c);
        if (!ok) {
            return false;
        }
    }
    return true;
}

// Comma-separated header value contains `token`, case-insensitively.
bool listContains(QByteArrayView value, QByteArrayView token)
{
    for (QByteArrayView item : QByteArray(value.toByteArray()).split(',')) {
        if (item.trimmed().compare(token, Qt::CaseInsensitive) == 0) {
            return true;
        }
    }
    return false;
}

// Value of `name` in a query string (no percent-decoding: tokens and cursors are [0-9a-f.]).
QByteArray queryValue(QByteArrayView query, QByteArrayView name)
{
    for (QByteArrayView pair : QByteArray(query.toByteArray()).split('&')) {
        const qsizetype eq = pair.indexOf('=');
        if (eq > 0 && pair.first(eq) == name) {
            return pair.sliced(eq + 1).toByteArray();
        }
    }
    return {};
}

} // namespace

RequestSniffer::Decision RequestSniffer::inspect(QByteArrayView data, const Limits& limits)
{
    const int maxHeaderBytes = limits.maxHeaderBytes;
    const QByteArrayView window = data.first(std::min<qsizetype>(data.size(), maxHeaderBytes));
    if (!plausibleStart(window.first(std::min<qsizetype>(window.size(), 18)))) {
        return reject(400, "bad_request", "not an HTTP request");
    }
    const qsizetype end = window.indexOf(QByteArrayView("\r\n\r\n"));
    if (const char* bad = badLineEnd(end < 0 ? window : window.first(end + 4))) {
        return reject(400, "bad_request", bad);
    }
    if (end < 0) {
        if (data.size() >= maxHeaderBytes) {
            return reject(431, "header_too_large", "request head exceeds the size limit");
        }
        return {};
    }
    const int headBytes = int(end + 4);
    // Every line of the head, the last one included, ends with CRLF (badLineEnd() checked it);
    // split leaves an empty tail.
    QList<QByteArray> lines = window.first(end + 2).toByteArray().split('\n');
    lines.removeLast();
    for (QByteArray& line : lines) {
        line.chop(1);
    }

    // Request line: METHOD SP TARGET SP HTTP/1.x
    const QByteArray& requestLine = lines.constFirst();
    const QList<QByteArray> parts = requestLine.split(' ');
    if (parts.size() != 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
        return reject(400, "bad_request", "malformed request line");
    }
    const QByteArray& method = parts[0];
    const QByteArray& target
        = parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" ? parts[1] : QByteArray();
    if (target.isEmpty()) {
        return reject(400, "bad_request", "unsupported HTTP version");
    }
    if (!target.startsWith('/')) {
        return reject(400, "bad_request", "request target must be an absolute path");
    }

    QByteArray upgrade;
    QByteArray connection;
    QByteArray contentLength;
    QByteArray sessionToken;
    QByteArray lastEventId;
    int hostFields = 0;
    bool chunked = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray& line = lines[i];
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            return reject(400, "bad_request", "malformed header line");
        }
        const QByteArray name = line.left(colon);
        for (char c : name) {
            if (!isTokenChar(c)) {
                return reject(400, "bad_request", "malformed header name");
            }
        }
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name.compare("host", Qt::CaseInsensitive) == 0) {
            if (++hostFields > 1) {
                return reject(400, "bad_request", "more than one Host header");
            }
            if (!validHost(value)) {
                return reject(400, "bad_request", "malformed Host header");
            }
        } else if (name.compare("upgrade", Qt::CaseInsensitive) == 0) {
            upgrade = value;
        } else if (name.compare("connection", Qt::CaseInsensitive) == 0) {
            connection = value;
        } else if (name.compare("content-length", Qt::CaseInsensitive) == 0) {
            if (!contentLength.isEmpty() && contentLength != value) {
                return reject(400, "bad_request", "conflicting Content-Length headers");
            }
            contentLength = value;
        } else if (name.compare("transfer-encoding", Qt::CaseInsensitive) == 0) {
            chunked = true;
        } else if (name.compare("x-parley-session", Qt::CaseInsensitive) == 0) {
            sessionToken = value;
        } else if (name.compare("last-event-id", Qt::CaseInsensitive) == 0) {
            lastEventId = value;
        }
    }

    // RFC 9112 3.2: a server must answer 400 to an HTTP/1.1 request without Host (HTTP/1.0
    // clients may omit it).
    if (hostFields == 0 && parts[2] == "HTTP/1.1") {
        return reject(400, "bad_request", "HTTP/1.1 request without a Host header");
    }

    qsizetype pathEnd = target.indexOf('?');
    const QByteArray path = pathEnd < 0 ? target : target.left(pathEnd);
    const QByteArray query = pathEnd < 0 ? QByteArray() : target.mid(pathEnd + 1);
    Decision d;
    d.headBytes = headBytes;
    d.keepAlive = parts[2] == "HTTP/1.1" && !listContains(connection, "close");
    if (chunked) {
        // Request bodies must carry a Content-Length: chunked uploads are not needed by any
        // client of ours, and refusing them keeps the body reader trivially bounded.
        return reject(411, "length_required", "chunked request bodies are not supported");
    }
    if (!contentLength.isEmpty()) {
        bool ok = false;
        const qint64 length = contentLength.toLongLong(&ok);
        if (!ok || length < 0 || contentLength.front() == '+' || contentLength.front() == '-') {
            return reject(400, "bad_request", "malformed Content-Length");
        }
        d.contentLength = length;
    }
    const bool eventStream = path == "/v1/sse" && method == "GET";
    const QByteArray queryToken = queryValue(query, "token");
    d.sessionToken = sessionToken.isEmpty() && eventStream ? queryToken : sessionToken;
    d.cursor = lastEventId.isEmpty() ? queryValue(query, "cursor") : lastEventId;
    const auto endpoint = [&](QByteArrayView wanted, Verdict verdict) {
        if (method != wanted) {
            Decision r
                = reject(405, "method_not_allowed", wanted == "GET" ? "use GET" : "use POST");
            return r;
        }
        // Bodies are bounded per endpoint, from the head: nothing is read past what the
        // endpoint can use.
        const qint64 maxBody = verdict == Verdict::Commands ? limits.maxCommandsBodyBytes
            : verdict == Verdict::OpenSession               ? limits.maxSessionBodyBytes
                                                            : 0;
        if (d.contentLength > maxBody) {
            return reject(413, "body_too_large",
                maxBody == 0 ? "this endpoint takes no request body"
                             : "request body exceeds the size limit");
        }
        if (!queryToken.isEmpty() && !eventStream && verdict != Verdict::OpenSession) {
            return reject(401, "unauthorized",
                "the token query parameter is accepted on GET /v1/sse only: send the "
                "X-Parley-Session header");
        }
        d.verdict = verdict;
        return d;
    };
    if (path == "/v1/session") {
        return endpoint(method == "DELETE" ? "DELETE" : "POST",
            method == "DELETE" ? Verdict::EndSession : Verdict::OpenSession);
    }
    if (path == "/v1/commands") {
        return endpoint("POST", Verdict::Commands);
    }
    if (path == "/v1/sse") {
        return endpoint("GET", Verdict::EventStream);
    }
    if (path == "/v1/poll") {
        return endpoint("GET", Verdict::Poll);
    }
    if (path == "/healthz") {
        if (method != "GET") {
            return reject(405, "method_not_allowed", "use GET");
        }
        d.verdict = Verdict::Health;
        return d;
    }
    if (path == "/v1/ws") {
        if (method != "GET") {
            return reject(405, "method_not_allowed", "use GET with Upgrade: websocket");
        }
        if (!listContains(upgrade, "websocket") || !listContains(connection, "upgrade")) {
            return reject(400, "upgrade_required", "expected a WebSocket upgrade request");
        }
        d.verdict = Verdict::WebSocket;
        return d;
    }
    return reject(404, "not_found", "no such endpoint");
}

} // namespace parley::server

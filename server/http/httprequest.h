// HttpRequest: one complete HTTP request for the HTTP transports (head decision + body), and the
// small response helpers shared by the I/O thread's HTTP code.
#pragma once

#include "requestsniffer.h"

#include <QByteArray>
#include <cstdint>
#include <optional>

namespace parley::server {

struct HttpRequest {
    RequestSniffer::Decision head;
    QByteArray body;
};

//! A session token "<thread>.<session>.<secret>", split.
struct SessionToken {
    int thread = -1;
    std::uint64_t session = 0;
    QByteArray secret;

    //! Parses a token; nullopt when it is not of that shape.
    static std::optional<SessionToken> parse(const QByteArray& text);
};

//! Reason phrase of the statuses parleyd answers.
const char* reasonPhrase(int status);
//! {"error": code, "message": message}
QByteArray errorJson(const QByteArray& code, const QByteArray& message);

} // namespace parley::server

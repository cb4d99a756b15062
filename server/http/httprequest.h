// HttpRequest: one complete HTTP request for the HTTP transports (head decision + body), and the
// small response helpers shared by the I/O thread's HTTP code.
#pragma once

#include "requestsniffer.h"

#include <QByteArray>
#include <cstdint>
#include <optional>
#include <string>

namespace parley::server {

struct HttpRequest {
    RequestSniffer::Decision head;
    QByteArray body;
};

//! A session token "<thread>.<session>.<secret>~<node>", split. The node part names the node
//! holding the session, so a request landing on another node of a cluster can be forwarded
//! there (routing/noderouter.h); a token without it belongs to the node that reads it.
struct SessionToken {
    int thread = -1;
    std::uint64_t session = 0;
    QByteArray secret;
    std::string node; //!< empty: this node

    //! Parses a token; nullopt when it is not of that shape.
    static std::optional<SessionToken> parse(const QByteArray& text);
    //! The token's text (parse() of it gives this token back).
    QByteArray toText() const;
    //! Whether the session lives on another node than `localNode`.
    bool isElsewhere(const std::string& localNode) const
    {
        return !node.empty() && node != localNode;
    }
};

//! Reason phrase of the statuses parleyd answers.
const char* reasonPhrase(int status);
//! {"error": code, "message": message}
QByteArray errorJson(const QByteArray& code, const QByteArray& message);

} // namespace parley::server

// Parsing of the `parley` command line into an Invocation, with help texts.
#pragma once

#include <QString>
#include <QStringList>
#include <QUrl>
#include <functional>
#include <parley/clientoptions.h>

namespace parley::cli {

struct Invocation {
    enum class Kind { Send, Tail, History, Chat };
    Kind kind = Kind::Send;
    QString room;
    QStringList texts; //!< send: the message words (joined by spaces); empty: read stdin
    bool json = false;
    int limit = 50; //!< history
    QUrl server; //!< the WebSocket endpoint (--server or PARLEY_SERVER, any ServerAddress form)
    QString serverName; //!< "host:port" of the server, for messages
    QString user;
    QString token;
    int timeoutSeconds = 30;
    TransportKind transport = TransportKind::Auto; //!< --transport ws|sse|poll|auto
    //! send --idempotency-key: message n gets client id "KEY:n" (see LineSender); empty: none
    QString idempotencyKey;
};

//! The outcome of parsing: either an invocation to run, or text to print and an exit code
//! (help, version, usage error).
struct ParseResult {
    bool run = false;
    Invocation invocation;
    QString text; //!< help or error text
    int exitCode = 0;
};

//! Parses `arguments` (without the program name). `environment` lookups go through `env` so
//! tests can supply their own.
ParseResult parseCommandLine(
    const QStringList& arguments, const std::function<QString(const char*)>& env);

//! The top-level `parley --help` text, with the exit codes.
QString mainHelp();

} // namespace parley::cli

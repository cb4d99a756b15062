#include "exitcode.h"

namespace parley::cli {

ExitCode exitCodeFor(const parley::Error& error, bool connected)
{
    switch (error.code) {
    case ErrorCode::ConnectionFailed:
    case ErrorCode::ConnectionLost:
        return ExitCannotConnect;
    case ErrorCode::Timeout:
        return connected ? ExitTimeout : ExitCannotConnect;
    case ErrorCode::Unauthorized:
        return ExitUnauthorized;
    case ErrorCode::Unavailable:
    case ErrorCode::Overloaded:
    case ErrorCode::RateLimited:
    case ErrorCode::Internal:
        // Retryable on the server's side: the server is there but cannot take it now.
        return ExitUnavailable;
    case ErrorCode::InvalidOptions:
        return ExitUsage;
    case ErrorCode::OutboxFull: // the CLI never overfills the outbox: a bug
    case ErrorCode::ProtocolError:
    case ErrorCode::Cancelled:
        return ExitFailure;
    case ErrorCode::BadJson:
    case ErrorCode::BadFrame:
    case ErrorCode::UnknownType:
    case ErrorCode::FrameTooLarge:
    case ErrorCode::BodyTooLarge:
    case ErrorCode::EmptyBody:
    case ErrorCode::BadRoom:
    case ErrorCode::NotJoined:
    case ErrorCode::TooManyRooms:
    case ErrorCode::HelloRequired:
    case ErrorCode::AlreadyWelcomed:
    case ErrorCode::InvalidArgument:
    case ErrorCode::UserOffline:
        return ExitRejected;
    }
    return error.retryable ? ExitUnavailable : ExitRejected;
}

QString exitCodesHelp()
{
    return QStringLiteral(
        "Exit codes:\n"
        "  0    done (every message acknowledged; history printed; tail/chat ended by the user)\n"
        "  1    unexpected failure (an I/O error on standard output, a bug)\n"
        "  2    usage error\n"
        "  3    cannot connect to the server (refused, unknown host), or the connection dropped\n"
        "       and did not come back within --timeout\n"
        "  4    the server rejected a request for good: a message (too large, empty), the\n"
        "       room; the same command fails again the same way\n"
        "  5    connected, but no answer within --timeout\n"
        "  6    the server cannot store messages now (storage or cluster down, overloaded):\n"
        "       try again later, with the same --idempotency-key\n"
        "  7    the server refused the user name or token\n"
        "  130  interrupted (SIGINT/SIGTERM) before send, history or chat had finished\n"
        "  141  standard output closed by its reader (e.g. `| head -1`), as for Unix tools\n"
        "       ended by SIGPIPE\n");
}

} // namespace parley::cli

// The exit codes of `parley`, one per cause, documented in `parley --help` (from exitCodesHelp(),
// so the list and the help cannot drift). Scripts depend on them: never renumber, only add.
#pragma once

#include <QString>
#include <parley/error.h>

namespace parley::cli {

enum ExitCode : int {
    ExitOk = 0, //!< done: every message acked, the history printed, tail/chat ended by the user
    ExitFailure = 1, //!< an unexpected failure (a bug, an I/O error on stdout)
    ExitUsage = 2, //!< bad command line
    //! no server answered (refused, unknown host), or the connection dropped and was not back
    //! within --timeout
    ExitCannotConnect = 3,
    //! the server rejected a request for good: a message (too large, empty), the room; running
    //! the same command again will fail the same way
    ExitRejected = 4,
    ExitTimeout = 5, //!< connected, but no answer within --timeout
    //! the server is up but cannot store messages now (its storage or cluster link is down, it
    //! sheds load): try again later (with the same --idempotency-key)
    ExitUnavailable = 6,
    ExitUnauthorized = 7, //!< the server refused the user name or token
    ExitInterrupted = 130, //!< SIGINT/SIGTERM before send, history or chat had finished its work
    //! standard output was closed by its reader (`parley tail ROOM | head -1`): the status a
    //! shell reports for a Unix tool ended by SIGPIPE (128 + 13)
    ExitBrokenPipe = 141,
};

//! The exit code for a command that ends because of `error`. `connected`: whether the client was
//! connected at that moment (a Timeout while connected is the server's silence, otherwise the
//! connection that did not come back). The one place where SDK error codes become exit codes.
ExitCode exitCodeFor(const parley::Error& error, bool connected);

//! The "Exit codes:" section of `parley --help`.
QString exitCodesHelp();

} // namespace parley::cli

// The exit codes of `parley`, documented in `parley --help`. Scripts depend on them: never
// renumber, only add.
#pragma once

namespace parley::cli {

enum ExitCode : int {
    ExitOk = 0, //!< done: every message acked, the history printed, tail/chat ended by the user
    ExitFailure = 1, //!< an unexpected failure (a bug, an I/O error on stdout)
    ExitUsage = 2, //!< bad command line
    ExitCannotConnect = 3, //!< no server answered, or the connection dropped
    ExitServerError = 4, //!< the server rejected something (credentials, room, a message) or
                         //!< could not store a message (its storage fails)
    ExitTimeout = 5, //!< connected, but no answer within --timeout
    ExitInterrupted = 130, //!< SIGINT/SIGTERM during send or history (not everything was done)
};

} // namespace parley::cli

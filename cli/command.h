// Command: what every `parley` subcommand shares — a Client, the connection, the join of the
// room, the mapping of failures to exit codes.
#pragma once

#include "commandline.h"

#include <QObject>
#include <QTimer>
#include <parley/client.h>

class QSocketNotifier;

namespace parley::cli {

class Command : public QObject {
    Q_OBJECT

public:
    explicit Command(const Invocation& invocation, QObject* parent = nullptr);

    //! Connects and joins the room; the subcommand takes over in onJoined().
    void start();
    //! SIGINT/SIGTERM: tail and chat end normally, others report an interruption.
    virtual void interrupt();

Q_SIGNALS:
    //! The command is done; the process should exit with `exitCode`. Emitted once.
    void finished(int exitCode);

protected:
    //! The room is joined (called once).
    virtual void onJoined(const QStringList& members) = 0;
    //! Called when start() runs, after join() and before connecting (sends may be queued).
    virtual void onStarted() { }
    //! Whether a dropped connection is waited out (the client reconnects, rejoins and resends
    //! unacked messages under their ids) rather than ending the command: true for send, tail
    //! and chat. A server that was never reached still ends the command at once.
    virtual bool followsAcrossReconnects() const { return false; }

    //! Ends the command: closes the connection and emits finished(exitCode) from the event loop.
    void finish(int exitCode);
    //! Ends the command because of `error`, with its exit code (exitCodeFor()).
    void finishWith(const parley::Error& error);
    //! Prints "parley: <text>" on stderr.
    void warn(const QString& text);
    //! Writes one line (text + "\n") to stdout and flushes, so pipes see it at once. When the
    //! reader is gone (EPIPE) the command ends quietly with ExitBrokenPipe, as Unix tools do;
    //! on any other write error it says so and ends with ExitFailure.
    void printLine(const QByteArray& line);
    void printLine(const QString& line) { printLine(line.toUtf8()); }
    //! For commands that run until stopped (tail, chat): when stdout is a pipe, end the command
    //! (ExitBrokenPipe) as soon as its reader goes away, even while there is nothing to print
    //! (`parley tail ROOM | head -1` exits after the first line, not at the next message).
    void endWhenStdoutCloses();
    bool isConnected() const { return m_client.state() == ConnectionState::Connected; }

    //! (Re)arms the --timeout deadline; when it passes, the command ends with ExitTimeout.
    void armTimeout();
    void stopTimeout() { m_timeout.stop(); }

    bool isFinished() const { return m_finished; }

    const Invocation m_invocation;
    parley::Client m_client;

private:
    void onError(const parley::Error& error);
    void stdoutFailed(int error);

    QTimer m_timeout;
    QSocketNotifier* m_stdoutWatch = nullptr;
    bool m_stdoutFailed = false;
    bool m_joined = false;
    bool m_wasConnected = false;
    bool m_reportedTransport = false; // a non-WebSocket transport was reported on stderr
    bool m_finished = false;
};

} // namespace parley::cli

// Command: what every `parley` subcommand shares — a Client, the connection, the join of the
// room, the mapping of failures to exit codes.
#pragma once

#include "commandline.h"

#include <QObject>
#include <QTimer>
#include <parley/client.h>

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
    //! Whether a dropped connection is waited out (the client reconnects and rejoins) rather
    //! than ending the command: true for the long-running tail and chat.
    virtual bool followsAcrossReconnects() const { return false; }

    //! Ends the command: closes the connection and emits finished(exitCode) from the event loop.
    void finish(int exitCode);
    //! Prints "parley: <text>" on stderr.
    void warn(const QString& text);
    //! Writes one line (text + "\n") to stdout and flushes, so pipes see it at once.
    void printLine(const QByteArray& line);
    void printLine(const QString& line) { printLine(line.toUtf8()); }

    //! (Re)arms the --timeout deadline; when it passes, onTimeout() runs.
    void armTimeout();
    //! The --timeout deadline passed: ends the command with ExitTimeout (ExitCannotConnect when
    //! not connected).
    virtual void onTimeout();
    void stopTimeout() { m_timeout.stop(); }

    bool isFinished() const { return m_finished; }

    const Invocation m_invocation;
    parley::Client m_client;

private:
    void onError(const parley::Error& error);

    QTimer m_timeout;
    bool m_joined = false;
    bool m_wasConnected = false;
    bool m_reportedTransport = false; // a non-WebSocket transport was reported on stderr
    bool m_finished = false;
};

} // namespace parley::cli

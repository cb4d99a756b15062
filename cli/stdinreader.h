// StdinReader: lines of standard input, read without blocking the event loop.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

class QSocketNotifier;

namespace parley::cli {

//! Reads file descriptor 0 when a QSocketNotifier says it is readable, so the event loop keeps
//! running (network, timers) while the user types or a pipe is slow. Works for terminals, pipes
//! and regular files. Lines are UTF-8, without their "\n" (or "\r\n").
class StdinReader : public QObject {
    Q_OBJECT

public:
    explicit StdinReader(QObject* parent = nullptr);

    //! Starts reading; finished() follows at end of input (at once when stdin is closed).
    void start();

Q_SIGNALS:
    void lineRead(const QString& line);
    //! End of input (or a read error); no lineRead() after it.
    void finished();

private:
    void readAvailable();
    void emitLines();
    void end();

    QSocketNotifier* m_notifier = nullptr;
    QByteArray m_buffer;
    bool m_done = false;
};

} // namespace parley::cli

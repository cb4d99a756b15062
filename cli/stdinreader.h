// StdinReader: lines of standard input, read without blocking the event loop, as fast as the
// consumer takes them.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

class QSocketNotifier;

namespace parley::cli {

//! Reads file descriptor 0 when a QSocketNotifier says it is readable, so the event loop keeps
//! running (network, timers) while the user types or a pipe is slow. Works for terminals, pipes
//! and regular files. Lines are UTF-8, without their "\n" (or "\r\n").
//!
//! Backpressure: between pause() and resume() no line is delivered and nothing more is read, so
//! at most one read (64 KiB) is buffered here and a producer writing into a pipe blocks until
//! the consumer catches up. However fast the input, memory stays bounded.
class StdinReader : public QObject {
    Q_OBJECT

public:
    explicit StdinReader(QObject* parent = nullptr);

    //! Starts reading; finished() follows at end of input (at once when stdin is closed).
    void start();
    //! No lineRead() (and no read of stdin) until resume(). Safe inside a lineRead() slot.
    void pause();
    //! Delivers the buffered lines, then reads on; from the event loop, not inside this call.
    void resume();
    bool isPaused() const { return m_paused; }

Q_SIGNALS:
    //! Line `number` of the input (1-based, blank lines counted) is `text`.
    void lineRead(qint64 number, const QString& text);
    //! End of input (or a read error), after the last lineRead(); never while paused.
    void finished();

private:
    void readAvailable();
    void emitLines();
    void end();

    QSocketNotifier* m_notifier = nullptr;
    QByteArray m_buffer;
    qsizetype m_offset = 0; // start of the first line not yet delivered
    qint64 m_lines = 0;
    bool m_paused = false;
    bool m_atEnd = false; // end of input read; what is buffered is the rest
    bool m_resumeScheduled = false;
    bool m_done = false;
};

} // namespace parley::cli

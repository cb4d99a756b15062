// SignalWatcher: SIGINT/SIGTERM turned into a Qt signal on the event loop.
#pragma once

#include <QObject>

namespace parley::cli {

//! Installs handlers for SIGINT and SIGTERM that only write a byte to a socket pair (the one
//! async-signal-safe thing to do); the read end is watched by a QSocketNotifier, so interrupted()
//! is emitted from the event loop where it is safe to close connections cleanly.
class SignalWatcher : public QObject {
    Q_OBJECT

public:
    explicit SignalWatcher(QObject* parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void interrupted(int signalNumber);
};

} // namespace parley::cli

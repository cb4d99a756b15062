// ShutdownSignals: SIGTERM / SIGINT turned into a Qt signal on the main thread.
//
// The POSIX handler only write()s one byte to a socketpair (async-signal-safe); a QSocketNotifier
// on the other end emits `received` from the event loop, where real work is allowed.
#pragma once

#include <QObject>

class QSocketNotifier;

namespace parley::server {

class ShutdownSignals : public QObject {
    Q_OBJECT
public:
    //! Installs the handlers for SIGTERM and SIGINT (and ignores SIGPIPE). One instance at a time.
    explicit ShutdownSignals(QObject* parent = nullptr);
    ~ShutdownSignals() override;

    //! False if the socketpair or the handlers could not be set up.
    bool isValid() const { return m_notifier != nullptr; }

Q_SIGNALS:
    void received(int signalNumber);

private:
    void onReadable();
    QSocketNotifier* m_notifier = nullptr;
};

} // namespace parley::server

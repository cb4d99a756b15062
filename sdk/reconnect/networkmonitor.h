// NetworkMonitor: tells the client when the network comes back, so a reconnect does not wait out
// its backoff: a network coming back triggers an immediate attempt.
//
// Built on QNetworkInformation where Qt has a reachability backend (NetworkManager on Linux,
// the system APIs elsewhere). Without one (containers, headless servers) start() returns false
// and the backoff timer alone drives the retries. networkReturned() fires on a transition from
// unreachable (Disconnected, Local, Unknown) to reachable (Site, Online), not on every change
// the backend reports, so flapping between Site and Online does not cut the backoff short.
#pragma once

#include <QNetworkInformation>
#include <QObject>

namespace parley {

class NetworkMonitor : public QObject {
    Q_OBJECT
public:
    explicit NetworkMonitor(QObject* parent = nullptr);

    //! Loads the reachability backend and starts watching; false when the platform has none.
    bool start();

    //! Feeds one reachability report (the backend's, or a test's).
    void observe(QNetworkInformation::Reachability reachability);

Q_SIGNALS:
    //! The network went from unreachable to reachable.
    void networkReturned();

private:
    static bool isReachable(QNetworkInformation::Reachability reachability);

    QNetworkInformation::Reachability m_last = QNetworkInformation::Reachability::Unknown;
    bool m_started = false;
};

} // namespace parley

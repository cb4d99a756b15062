#include "networkmonitor.h"

namespace parley {

NetworkMonitor::NetworkMonitor(QObject* parent)
    : QObject(parent)
{
}

bool NetworkMonitor::start()
{
    if (m_started) {
        return true;
    }
    if (!QNetworkInformation::loadBackendByFeatures(QNetworkInformation::Feature::Reachability)) {
        return false;
    }
    QNetworkInformation* info = QNetworkInformation::instance();
    if (!info) {
        return false;
    }
    m_started = true;
    m_last = info->reachability();
    connect(info, &QNetworkInformation::reachabilityChanged, this, &NetworkMonitor::observe);
    return true;
}

void NetworkMonitor::observe(QNetworkInformation::Reachability reachability)
{
    const bool returned = !isReachable(m_last) && isReachable(reachability);
    m_last = reachability;
    if (returned) {
        Q_EMIT networkReturned();
    }
}

bool NetworkMonitor::isReachable(QNetworkInformation::Reachability reachability)
{
    return reachability == QNetworkInformation::Reachability::Online
        || reachability == QNetworkInformation::Reachability::Site;
}

} // namespace parley
